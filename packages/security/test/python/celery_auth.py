"""Celery 5.2's auth serializer (celery.security) as the peer of @nori/security's tests.

  celery_auth.py sign <key> <cert> <store> <values.json>     -> JSON list of signed payloads (text)
  celery_auth.py verify <key> <cert> <store> <payloads.json> -> JSON list of {"ok": value} or {"error": text}
  celery_auth.py send <broker> <queue> <key> <cert> <store> <args.json>
      -> a Celery app with task_serializer='auth' sends task 'auth.echo'(*args); prints the task id
  celery_auth.py consume <broker> <queue> <key> <cert> <store> <count>
      -> kombu consumer with accept=['auth'] (app.setup_security()); prints a JSON list of
         {"ok": [args, kwargs, embed], "task": name} or {"error": text} per message"""
import json
import socket
import sys

from celery import Celery
from celery.security.certificate import Certificate, FSCertStore
from celery.security.key import PrivateKey
from celery.security.serialization import SecureSerializer
from kombu import Connection, Consumer, Queue


def serializer(key, cert, store):
    return SecureSerializer(PrivateKey(open(key).read()), Certificate(open(cert).read()), FSCertStore(store), "sha256", "json")


def app_for(broker, key, cert, store):
    app = Celery("auth", broker=broker)
    app.conf.update(task_serializer="auth", accept_content=["auth"], security_key=key,
                    security_certificate=cert, security_cert_store=store, broker_connection_retry=False)
    app.setup_security()
    return app


mode = sys.argv[1]
if mode == "sign":
    s = serializer(*sys.argv[2:5])
    print(json.dumps([s.serialize(v) for v in json.load(open(sys.argv[5]))]))
elif mode == "verify":
    s = serializer(*sys.argv[2:5])
    out = []
    for payload in json.load(open(sys.argv[5])):
        try:
            out.append({"ok": s.deserialize(payload)})
        except Exception as exc:  # SecurityError, or whatever a malformed payload raises
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    print(json.dumps(out))
elif mode == "send":
    broker, queue, key, cert, store, args = sys.argv[2:8]
    app = app_for(broker, key, cert, store)
    print(app.send_task("auth.echo", args=json.loads(args), queue=queue).id)
elif mode == "consume":
    broker, queue, key, cert, store, count = sys.argv[2:8]
    app_for(broker, key, cert, store)
    got = []

    def on_message(body, message):
        got.append({"ok": body, "task": message.headers.get("task")})
        message.ack()

    def on_decode_error(message, exc):
        got.append({"error": f"{type(exc).__name__}: {exc}"})
        message.ack()

    with Connection(broker) as conn:
        consumer = Consumer(conn, [Queue(queue, routing_key=queue)], callbacks=[on_message], accept=["auth"],
                            on_decode_error=on_decode_error)
        with consumer:
            for _ in range(100):
                if len(got) >= int(count):
                    break
                try:
                    conn.drain_events(timeout=0.2)
                except socket.timeout:
                    pass
    print(json.dumps(got))
