"""Take one message with Python kombu and hold it unacked: argv[1] = URL, argv[2] = JSON spec
{"queue": name, "exchange": name, "routing_key": key, "transport_options": {...}}. Prints
"held <delivery tag>", then holds the message until stdin closes."""
import json
import socket
import sys

from kombu import Connection, Exchange, Queue

url, spec = sys.argv[1], json.loads(sys.argv[2])
queue = Queue(spec["queue"], exchange=Exchange(spec["exchange"], type="direct"), routing_key=spec["routing_key"])
with Connection(url, transport_options=spec.get("transport_options", {})) as conn:
    held = []
    with conn.Consumer([queue], callbacks=[lambda body, message: held.append(message)], accept=["json"]):
        while not held:
            try:
                conn.drain_events(timeout=0.5)
            except socket.timeout:
                pass
        print("held", held[0].delivery_tag, flush=True)
        sys.stdin.read()
