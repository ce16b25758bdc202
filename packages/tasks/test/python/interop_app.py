"""The Python side of nori's Celery interop tests: a Celery 5.2 app whose broker, result backend
and queue come from the environment (NORI_BROKER, NORI_BACKEND, NORI_QUEUE, NORI_MAX_PRIORITY
for x-max-priority queues, and the test file's own NORI_CONTROL_EXCHANGE / NORI_EVENT_EXCHANGE),
with the tasks the tests call from nori. Run a worker with:

    /usr/bin/python3 -m celery -A interop_app worker --pool solo -Q $NORI_QUEUE
"""
import os
import time

from celery import Celery

app = Celery('interop_app', broker=os.environ['NORI_BROKER'], backend=os.environ.get('NORI_BACKEND') or None)
app.conf.update(
    task_default_queue=os.environ.get('NORI_QUEUE', 'celery'),
    task_serializer='json',
    result_serializer='json',
    accept_content=['json'],
    result_accept_content=['json'],
    result_expires=600,
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)
if os.environ.get('NORI_CONTROL_EXCHANGE'):
    app.conf.control_exchange = os.environ['NORI_CONTROL_EXCHANGE']
if os.environ.get('NORI_EVENT_EXCHANGE'):
    app.conf.event_exchange = os.environ['NORI_EVENT_EXCHANGE']
if os.environ.get('NORI_MAX_PRIORITY'):
    app.conf.task_queue_max_priority = int(os.environ['NORI_MAX_PRIORITY'])


class InteropError(Exception):
    """A typed failure: nori must see its name, module and message."""


@app.task(name='interop.add')
def add(x, y):
    return x + y


@app.task(name='interop.mul')
def mul(x, y):
    return x * y


@app.task(name='interop.fail')
def fail(message):
    raise InteropError(message)


@app.task(name='interop.retrying', bind=True, max_retries=5)
def retrying(self, succeed_after):
    if self.request.retries < succeed_after:
        raise self.retry(countdown=0.2)
    return {'retries': self.request.retries}


@app.task(name='interop.echo')
def echo(*args, **kwargs):
    return {'args': list(args), 'kwargs': kwargs}


@app.task(name='interop.sleeper')
def sleeper(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name='interop.when', bind=True)
def when(self, label):
    """When it ran (epoch seconds), its label and eta: for countdown and priority order."""
    return {'label': label, 'ran': time.time(), 'eta': self.request.eta}


@app.task(name='interop.ids', bind=True)
def ids(self, trail):
    """The trail of a chain so far, plus this task's id, root_id and parent_id as Celery read them."""
    return trail + [{'id': self.request.id, 'root_id': self.request.root_id, 'parent_id': self.request.parent_id}]


@app.task(name='interop.add_quiet', ignore_result=True)
def add_quiet(x, y):
    """add without a stored result (Celery 5.2 honours ignore_result per task, not per message)."""
    return x + y


@app.task(name='interop.progress', bind=True)
def progress(self, gate):
    """Reports PROGRESS 1 of 2 (update_state), waits up to 30 s for the file `gate`, returns whether it came."""
    self.update_state(state='PROGRESS', meta={'current': 1, 'total': 2})
    deadline = time.time() + 30
    while not os.path.exists(gate) and time.time() < deadline:
        time.sleep(0.02)
    return {'gate': os.path.exists(gate)}
