"""Print every Celery event received for a while, one JSON object per line, with Celery 5.2's own
EventReceiver (what `celery events --dump` runs), on the exchange NORI_EVENT_EXCHANGE (default
celeryev). Usage: event_dump.py <broker> <seconds>.
Prints 'ready' once its queue is declared and consumed."""
import json
import os
import sys
import threading

from celery import Celery

app = Celery('event_dump', broker=sys.argv[1])
app.conf.event_exchange = os.environ.get('NORI_EVENT_EXCHANGE') or 'celeryev'


def on_event(event):
    print(json.dumps(event, default=str), flush=True)


with app.connection_for_read() as connection:
    receiver = app.events.Receiver(connection, handlers={'*': on_event})
    consume_ready = receiver.on_consume_ready

    def on_consume_ready(*args, **kwargs):
        print('ready', flush=True)
        return consume_ready(*args, **kwargs)

    receiver.on_consume_ready = on_consume_ready
    threading.Timer(float(sys.argv[2]), lambda: setattr(receiver, 'should_stop', True)).start()
    receiver.capture(limit=None, timeout=None, wakeup=False)
