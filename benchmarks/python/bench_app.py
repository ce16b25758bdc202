"""The tests' Celery app (interop_app, on PYTHONPATH beside this directory) with the benchmarks' own
task: bench.stamp returns when it started, in milliseconds of CLOCK_MONOTONIC, the clock every
process on the machine shares (the Node side reads it with process.hrtime), so the sender can
subtract its send time. Run a worker with:

    PYTHONPATH=benchmarks/python:packages/tasks/test/python /usr/bin/python3 -m celery -A bench_app worker -Q $NORI_QUEUE
"""
import time

from interop_app import app


@app.task(name='bench.stamp')
def stamp():
    return time.monotonic() * 1000
