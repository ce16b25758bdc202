/**
 * A mixed shop on one Redis: a `nori worker` and a Python Celery 5.2 `celery worker`, both under
 * their default node names, the Celery one with its mingle on. Each side's `inspect ping` lists
 * both, Celery's mingle syncs with the nori worker (its revoked ids reach Celery), `celery control
 * autoscale` gets a reply each way, and neither log has an ERROR line.
 */
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { PYTHON, PYTHON_DIR, startPython, type PythonProcess } from '../../tasks/test/python/python-process.js';
import { CELERY_NAMES_ENV } from '../../tasks/test/celery-names.js';
import { APP, APP_NAMES_ENV, BACKEND, REDIS, cleanUp, run, start } from './bin.js';

const queue = `cli-mixed-${randomUUID().slice(0, 8)}`;
const conn = new Connection(REDIS);
const env = { NORI_TEST_BROKER: REDIS, NORI_TEST_BACKEND: BACKEND, NORI_TEST_QUEUE: queue, ...APP_NAMES_ENV };
const pyEnv = { NORI_BROKER: REDIS, NORI_BACKEND: '', NORI_QUEUE: queue };
let python: PythonProcess | undefined;

afterAll(async () => {
  await python?.stop();
  await cleanUp(conn, [queue]);
});

/** `celery -A interop_app <args> --json`: the last line, parsed. */
async function celery(args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(PYTHON, ['-m', 'celery', '-A', 'interop_app', ...args, '--json'], {
    env: { ...process.env, PYTHONPATH: PYTHON_DIR, PYTHONDONTWRITEBYTECODE: '1', ...CELERY_NAMES_ENV, ...pyEnv },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('a nori worker beside a Celery 5.2 worker (Redis)', () => {
  it('both answer both pings under distinct default names; mingle syncs with nori; no ERROR line', async () => {
    const worker = start(['-A', APP, 'worker', '-l', 'info'], env);
    await worker.waitFor(/ready, consuming/);
    const noriNode = `nori-${worker.process.pid}@${hostname()}`;
    const celeryNode = `celery@${hostname()}`;
    const revoked = randomUUID();
    expect(JSON.parse((await run(['-A', APP, 'control', 'revoke', revoked, '-d', noriNode, '--json', '-t', '5'], env)).stdout)).toEqual({
      [noriNode]: { ok: `tasks ${revoked} flagged as revoked` },
    });

    // Celery's mingle asks every worker `hello` as it starts.
    python = await startPython(
      ['-m', 'celery', '-A', 'interop_app', 'worker', '--pool', 'solo', '-Q', queue, '--without-gossip', '-l', 'INFO'],
      pyEnv,
      /ready\./,
    );
    expect(python.output()).toContain('mingle: sync with 1 nodes');
    expect(python.output()).not.toContain('mingle: all alone');
    expect(await celery(['inspect', 'revoked', '-d', celeryNode, '-t', '5'])).toEqual({ [celeryNode]: [revoked] });

    const pings = { [celeryNode]: { ok: 'pong' }, [noriNode]: { ok: 'pong' } };
    expect(await celery(['inspect', 'ping', '-t', '1'])).toEqual(pings);
    const nori = await run(['-A', APP, 'inspect', 'ping', '--json', '-t', '1'], env);
    expect(JSON.parse(nori.stdout)).toEqual(pings);
    expect(nori.stderr).toBe('');
    // As Celery's worker without --autoscale answers.
    expect(await celery(['control', 'autoscale', '4', '2', '-d', noriNode, '-t', '5'])).toEqual([
      { [noriNode]: { error: "ValueError('Autoscale not enabled')" } },
    ]);

    expect(python.output()).not.toMatch(/ERROR|DuplicateNodenameWarning/);
    expect(worker.stderr).not.toMatch(/ERROR|error|DuplicateNodenameWarning/);
    // And the other way (Celery logs its own refusal as an ERROR, as it does for `celery control`).
    const autoscale = await run(['-A', APP, 'control', 'autoscale', '4', '2', '-d', celeryNode, '--json', '-t', '5'], env);
    expect(JSON.parse(autoscale.stdout)).toEqual({ [celeryNode]: { error: "ValueError('Autoscale not enabled')" } });
  });
});
