"""Print the tasks of a Python Celery app as JSON, for `nori types --from-python <module>:<app>`.

Usage: python3 celery_tasks.py <module>[:<attribute>]   (the working directory is on sys.path,
as with `celery -A`; without an attribute, the module's `app` or `celery`).

Each task: its name, the function it runs (module.qualname), its parameters (name, kind, whether it has a
default, type) and its return type. Types are trees that say what the annotation is in Python
terms; the TypeScript side decides how each one is written. Anything that is not plain JSON data
(datetime, bytes, classes, dicts keyed by non-strings) is {"t": "unknown", "name": ...}.
Celery's own tasks (celery.*) are left out.
"""
import collections.abc
import importlib
import inspect
import json
import sys
import types
import typing

KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}
SCALARS = {int: "int", float: "float", str: "str", bool: "bool", type(None): "none"}
LISTS = (list, collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable)
DICTS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def name_of(tp):
    if isinstance(tp, type):
        return tp.__qualname__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__qualname__}"
    return repr(tp).replace("typing.", "")


def describe(tp):
    """The type tree of one annotation."""
    if tp is inspect.Parameter.empty or tp is typing.Any or tp is object:
        return {"t": "any"}
    if tp is None:
        return {"t": "none"}
    if tp in SCALARS:
        return {"t": SCALARS[tp]}
    if isinstance(tp, str):  # an annotation that could not be resolved
        return {"t": "unknown", "name": tp}
    if typing.is_typeddict(tp):
        hints = typing.get_type_hints(tp)
        return {
            "t": "object",
            "fields": [{"name": k, "required": k in tp.__required_keys__, "type": describe(v)} for k, v in hints.items()],
        }
    origin, args = typing.get_origin(tp) or tp, typing.get_args(tp)
    if origin in LISTS or tp in (tuple, typing.Tuple):  # a bare tuple is a list of anything
        return {"t": "list", "item": describe(args[0]) if args else {"t": "any"}}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"t": "list", "item": describe(args[0])}
        return {"t": "tuple", "items": [describe(a) for a in args if a != ()]}
    if origin in DICTS:
        if args and args[0] is not str:
            return {"t": "unknown", "name": name_of(tp)}
        return {"t": "dict", "value": describe(args[1]) if args else {"t": "any"}}
    if origin is typing.Union or origin is types.UnionType:
        return {"t": "union", "of": [describe(a) for a in args]}
    if origin is typing.Literal and all(isinstance(a, (str, int, bool, type(None))) for a in args):
        return {"t": "literal", "values": list(args)}
    if origin is typing.Annotated:
        return describe(args[0])
    return {"t": "unknown", "name": name_of(tp)}


def hints_of(fn):
    """Resolved annotations (string ones too); the raw ones if some cannot be resolved."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        return getattr(fn, "__annotations__", {})


def describe_task(name, task):
    fn = task.run  # a bound method for bind=True tasks, so `self` is not a parameter
    sig = inspect.signature(fn)
    hints = hints_of(fn)
    params = [
        {
            "name": p.name,
            "kind": KINDS[p.kind],
            "optional": p.default is not inspect.Parameter.empty,
            "type": describe(hints.get(p.name, p.annotation)),
        }
        for p in sig.parameters.values()
    ]
    returns = hints.get("return", sig.return_annotation)
    source = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
    return {"name": name, "source": source, "params": params, "returns": describe(returns)}


def find_app(spec):
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    for candidate in [attr] if attr else ["app", "celery"]:
        if hasattr(module, candidate):
            return getattr(module, candidate)
    raise LookupError(f"module {module_name} has no attribute {attr or 'app or celery'}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: celery_tasks.py <module>[:<app>]")
    sys.path.insert(0, "")
    out, sys.stdout = sys.stdout, sys.stderr  # what the app prints while imported is not our JSON
    app = find_app(sys.argv[1])
    app.loader.import_default_modules()
    tasks = app.tasks  # finalizes the app: shared and pending tasks are registered now
    described = [describe_task(n, t) for n, t in sorted(tasks.items()) if not n.startswith("celery.")]
    import celery

    json.dump({"celery": celery.__version__, "tasks": described}, out)


if __name__ == "__main__":
    main()
