"""Drive interop_app from a nori test: argv[1] is a JSON request, the answer is one JSON line.

  {"op": "send", "tasks": [{"name", "args", "kwargs", "options"}]}      -> ["<id>", ...]
  {"op": "call", "tasks": [...], "timeout": s}   send, then get each     -> [result, ...]
  {"op": "get", "ids": [...], "timeout": s}                               -> [result, ...]
  {"op": "store", "id", "state", "result" | "exception": {type, message}}  writes with Celery's backend
  {"op": "chain", "tasks": [...], "timeout": s}  a chain of the tasks (as signatures), then get  -> result
  {"op": "progress", "task": {...}, "state": s, "gate": path, "timeout": s}
      send, poll AsyncResult.state until it is `state`, create the file `gate`, then get
      -> {"seen": {"state", "info"}, "result": result}

A result is {"id", "state", "value"} or, on failure, {"id", "state", "exc_type", "exc_module",
"exc_args"} as Python's AsyncResult rebuilds the exception.
"""
import json
import sys
import time

from celery import chain
from celery.result import AsyncResult

from interop_app import InteropError, app


def describe(result, timeout):
    try:
        value = result.get(timeout=timeout, propagate=False)
    except Exception as exc:  # a timeout is an answer too
        return {'id': result.id, 'state': 'TIMEOUT', 'error': repr(exc)}
    out = {'id': result.id, 'state': result.state, 'date_done': str(result.date_done)}
    if isinstance(value, BaseException):
        out.update(exc_type=type(value).__name__, exc_module=type(value).__module__, exc_args=list(value.args),
                   traceback=result.traceback)
    else:
        out['value'] = value
    return out


def send(tasks):
    return [app.send_task(t['name'], args=t.get('args', []), kwargs=t.get('kwargs', {}), **t.get('options', {}))
            for t in tasks]


def run_chain(tasks, timeout):
    steps = [app.signature(t['name'], args=t.get('args', []), kwargs=t.get('kwargs', {}), **t.get('options', {})) for t in tasks]
    return describe(chain(*steps).apply_async(), timeout)


def progress(request, timeout):
    [result] = send([request['task']])
    deadline = time.time() + timeout
    while result.state != request['state'] and time.time() < deadline:
        time.sleep(0.05)
    seen = {'state': result.state, 'info': result.info}
    open(request['gate'], 'w').close()
    return {'seen': seen, 'result': describe(result, timeout)}


def main():
    request = json.loads(sys.argv[1])
    op = request['op']
    timeout = request.get('timeout', 20)
    if op == 'send':
        answer = [r.id for r in send(request['tasks'])]
    elif op == 'call':
        answer = [describe(r, timeout) for r in send(request['tasks'])]
    elif op == 'get':
        answer = [describe(AsyncResult(i, app=app), timeout) for i in request['ids']]
    elif op == 'store':
        exc = request.get('exception')
        result = InteropError(exc['message']) if exc else request.get('result')
        app.backend.store_result(request['id'], result, request['state'], traceback=request.get('traceback'))
        answer = 'ok'
    elif op == 'chain':
        answer = run_chain(request['tasks'], timeout)
    elif op == 'progress':
        answer = progress(request, timeout)
    else:
        raise SystemExit(f'unknown op {op}')
    print(json.dumps(answer, default=str))


if __name__ == '__main__':
    main()
