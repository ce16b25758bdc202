"""Publish with Python kombu: argv[1] = URL, argv[2] = JSON spec
{"exchange": name|"", "type": "direct"|"topic"|"fanout", "transport_options": {...},
 "messages": [{"body": ..., "routing_key": ..., "priority": n, "headers": {...}}]}"""
import json
import sys

from kombu import Connection, Exchange

url, spec = sys.argv[1], json.loads(sys.argv[2])
exchange = Exchange(spec["exchange"], type=spec.get("type", "direct")) if spec["exchange"] else Exchange("")
with Connection(url, transport_options=spec.get("transport_options", {})) as conn:
    producer = conn.Producer(serializer="json")
    for m in spec["messages"]:
        producer.publish(
            m["body"],
            exchange=exchange,
            routing_key=m.get("routing_key", ""),
            priority=m.get("priority", 0),
            headers=m.get("headers", {}),
            declare=[exchange] if spec["exchange"] else [],
        )
