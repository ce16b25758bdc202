"""Codec interop vectors with Python kombu 5.2.

  kombu_codecs.py make            -> JSON list of vectors kombu produced:
                                     {serializer, compression, content_type, content_encoding, data (base64)}
  kombu_codecs.py lzma-bomb       -> base64 of 200 MB of zeros as kombu's lzma: 100 concatenated xz
                                     streams of 2 MB each (concatenation keeps making it fast)
  kombu_codecs.py read <vectors>  -> for nori-made vectors (JSON list as above, argument is a file),
                                     decode with kombu and print a JSON list of normalised values
Values are normalised for comparison: datetime -> {"datetime": iso}, bytes -> {"bytes": hex},
Decimal/UUID -> str."""
import base64
import datetime
import decimal
import json
import sys
import uuid

from kombu import compression, serialization

serialization.enable_insecure_serializers(["json", "msgpack", "yaml"])

VALUE = {
    "int": 42,
    "float": 1.5,
    "str": "h\u00e9llo",
    "list": [1, "a", None, True],
    "nested": {"a": {"b": [1, 2]}},
}


def value_for(serializer):
    v = dict(VALUE)
    if serializer != "msgpack":  # kombu 5.2 packs without msgpack's datetime support
        v["when"] = datetime.datetime(2024, 5, 1, 10, 30, tzinfo=datetime.timezone.utc)
    if serializer == "json":
        v["amount"] = decimal.Decimal("3.14")
        v["id"] = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")
    else:
        v["raw"] = b"\x00\xff\x10"
    return v


def normalise(v):
    if isinstance(v, dict):
        return {k: normalise(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [normalise(x) for x in v]
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return {"datetime": v.astimezone(datetime.timezone.utc).isoformat()}
    if hasattr(v, "to_datetime"):  # msgpack Timestamp
        return {"datetime": v.to_datetime().astimezone(datetime.timezone.utc).isoformat()}
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    return v


def codecs():
    names = ["zlib"]
    for name in ("bzip2", "lzma", "brotli", "zstd"):
        try:
            compression.compress(b"probe", name)
            names.append(name)
        except Exception:
            pass
    return names


if sys.argv[1] == "make":
    out = []
    for serializer in ("json", "msgpack", "yaml"):
        content_type, encoding, data = serialization.dumps(value_for(serializer), serializer=serializer)
        if isinstance(data, str):
            data = data.encode("utf-8")
        for codec in [None] + codecs():
            body, mime = (data, None) if codec is None else compression.compress(data, codec)
            out.append({"serializer": serializer, "compression": mime, "content_type": content_type,
                        "content_encoding": encoding, "data": base64.b64encode(body).decode()})
    print(json.dumps(out))
elif sys.argv[1] == "lzma-bomb":
    body, _ = compression.compress(b"\0" * (2 * 1000 * 1000), "lzma")
    print(base64.b64encode(body * 100).decode())
else:
    vectors = json.load(open(sys.argv[2]))
    result = []
    for v in vectors:
        data = base64.b64decode(v["data"])
        if v.get("compression"):
            data = compression.decompress(data, v["compression"])
        value = serialization.loads(data, v["content_type"], v["content_encoding"],
                                    accept=["json", "msgpack", "yaml", "application/json", "application/x-msgpack", "application/x-yaml"])
        result.append(normalise(value))
    print(json.dumps(result))
