"""Consume with Python kombu and print what arrived as JSON: argv[1] = URL, argv[2] = JSON spec
{"queue": name, "exchange": name|"", "type": ..., "routing_key": ..., "count": n, "timeout": s,
 "max_priority": n, "transport_options": {...}}. Prints "ready" once consuming, then one JSON line at the end."""
import json
import socket
import sys
import time

from kombu import Connection, Consumer, Exchange, Queue

url, spec = sys.argv[1], json.loads(sys.argv[2])
exchange = Exchange(spec["exchange"], type=spec.get("type", "direct")) if spec["exchange"] else Exchange("")
queue = Queue(
    spec["queue"],
    exchange=exchange,
    routing_key=spec.get("routing_key", spec["queue"]),
    max_priority=spec.get("max_priority"),
)
got = []


def on_message(body, message):
    got.append({
        "body": body,
        "priority": message.properties.get("priority"),
        "headers": message.headers,
        "routing_key": message.delivery_info.get("routing_key"),
    })
    message.ack()


with Connection(url, transport_options=spec.get("transport_options", {})) as conn:
    with Consumer(conn, [queue], callbacks=[on_message], accept=["json"]):
        # kombu's Redis transport PSUBSCRIBEs a fanout queue on the first drain, not at consume:
        # drain once before saying "ready", or a broadcast sent right after would reach no one.
        try:
            conn.drain_events(timeout=0.3)
        except socket.timeout:
            pass
        print("ready", flush=True)
        deadline = time.time() + spec.get("timeout", 10)
        while len(got) < spec["count"] and time.time() < deadline:
            try:
                conn.drain_events(timeout=0.5)
            except socket.timeout:
                pass
print(json.dumps(got), flush=True)
