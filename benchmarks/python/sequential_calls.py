"""Celery's side of bench:bytes: a Celery 5.2 client calling interop.add(i, 1) one at a time and
waiting for each result, as a Celery user's code does. argv[1] is the count. One untimed call
first (connections, the result subscription), then 'ready' on stdout; the calls start on SIGUSR1,
once the benchmark has read Redis's byte counters, and after the last result one JSON line gives
every task id (the benchmark deletes their results).
"""
import json
import signal
import sys

from bench_app import app


def call(i):
    result = app.send_task('interop.add', args=[i, 1])
    value = result.get(timeout=30)
    if value != i + 1:
        raise SystemExit(f'interop.add({i}, 1) returned {value!r}')
    return result.id


def main():
    count = int(sys.argv[1])
    # Blocked before 'ready', so a SIGUSR1 sent right after it waits for sigwait instead of killing us.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    ids = [call(0)]
    print('ready', flush=True)
    signal.sigwait({signal.SIGUSR1})
    ids += [call(i) for i in range(count)]
    print(json.dumps({'ids': ids}), flush=True)


if __name__ == '__main__':
    main()
