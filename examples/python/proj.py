"""The Python side of the README's task examples: a Celery app with one task of its own
(tasks.add, called from nori by examples/tasks-call-python.ts) and a call of a task nori serves
(tasks.shout, served by examples/tasks-serve-python.ts).

    celery -A proj worker --pool solo          # serve tasks.add
    python3 -c "from proj import shout; print(shout.delay('hi').get(timeout=10))"
"""
import os

from celery import Celery

app = Celery('proj', broker=os.environ.get('BROKER', 'redis://127.0.0.1:6379/0'),
             backend=os.environ.get('BACKEND', 'redis://127.0.0.1:6379/1'))
app.conf.task_default_queue = os.environ.get('QUEUE', 'celery')


@app.task(name='tasks.add')
def add(x, y):
    return x + y


# A task that lives in nori: Python only needs its name.
shout = app.signature('tasks.shout')
