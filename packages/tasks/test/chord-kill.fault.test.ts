/**
 * Chords survive SIGKILLs (#22.2): header parts are counted before their message is acked and
 * idempotently (a re-run does not count twice), and the body is sent before the counter is
 * deleted, so a worker killed at any point re-runs a part rather than losing its chord. Three
 * worker processes on a Redis broker and result backend (1 s lease) run 500 chords of 3 parts
 * while one of them is SIGKILLed and replaced every ~400 ms; every chord's body must end in
 * SUCCESS with the right sum. Duplicate body runs (a kill after the body was sent, before the
 * part's ack) are allowed, counted and printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import '@nori/redis';
import { App, chord, signature, type AsyncResult } from '@nori/tasks';
import { redisUrl } from '@nori/testing/brokers';

const BROKER = redisUrl();
const LEASE_MS = 1000;
const CHORDS = 500;
const PARTS = 3;
const root = fileURLToPath(new URL('../../..', import.meta.url));
const script = fileURLToPath(new URL('./chord-worker.ts', import.meta.url));
const queue = `chord-kill-${randomUUID().slice(0, 8)}`;
const runsKey = `${queue}-body-runs`;
const workers: Array<{ proc: ChildProcess; ready: boolean }> = [];

function startWorker(): Promise<void> {
  const proc = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', script, BROKER, queue, String(LEASE_MS), runsKey], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const w = { proc, ready: false };
  workers.push(w);
  return new Promise((resolve) => {
    proc.stdout?.on('data', (d: Buffer) => {
      if (!d.toString().includes('ready')) return;
      w.ready = true;
      resolve();
    });
    proc.once('exit', () => resolve());
  });
}

const app = new App({ broker: BROKER, backend: redisUrl(1), defaultQueue: queue });
const results = new Redis(redisUrl(1));
afterAll(async () => {
  for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
  const conn = new Connection(BROKER);
  await conn.deleteQueue(queue).catch(() => undefined);
  await conn.deleteExchange(queue).catch(() => undefined);
  await conn.close();
  await results.del(runsKey);
  await results.quit();
  await app.close();
});

it(`${CHORDS} chords of ${PARTS} parts under SIGKILLs: none lost`, async () => {
  await Promise.all([startWorker(), startWorker(), startWorker()]);
  let kills = 0;
  let killing = true;
  // Kill one ready worker every 250-550 ms (leaving one running), and start its replacement at once.
  const chaos = (async () => {
    while (killing) {
      await new Promise((r) => setTimeout(r, 250 + Math.random() * 300));
      const alive = workers.filter((w) => w.ready && w.proc.exitCode === null && w.proc.signalCode === null);
      if (alive.length < 2 || !killing) continue;
      const victim = alive[Math.floor(Math.random() * alive.length)] as (typeof alive)[number];
      victim.proc.kill('SIGKILL');
      kills++;
      void startWorker();
    }
  })();
  // Chords sent over ~15 s, so the kills land while their parts run.
  const bodies: Array<AsyncResult<number>> = [];
  for (let c = 0; c < CHORDS; c++) {
    const header = Array.from({ length: PARTS }, (_, i) => signature('chaos.part', [c * PARTS + i, 5 + Math.floor(Math.random() * 30)]));
    bodies.push(await chord(header, signature('chaos.sum')).applyAsync<number>(app));
    if (c % 10 === 9) await new Promise((r) => setTimeout(r, 300));
  }
  const expected = (c: number): number => PARTS * c * PARTS + (PARTS * (PARTS - 1)) / 2;
  // Every body done, or the last chance to see which are lost.
  const deadline = Date.now() + 120_000;
  let states: string[] = [];
  while (Date.now() < deadline) {
    states = await Promise.all(bodies.map(async (b) => ((await b.ready()) ? b.state : 'PENDING')));
    if (states.every((s) => s !== 'PENDING')) break;
    if (Date.now() > deadline - 100_000) killing = false;
    await new Promise((r) => setTimeout(r, 500));
  }
  killing = false;
  await chaos;
  const lost = states.filter((s) => s === 'PENDING').length;
  const runs = Object.values(await results.hgetall(runsKey)).map(Number);
  const duplicates = runs.reduce((sum, n) => sum + (n - 1), 0);
  console.log(`chord kill test: ${CHORDS} chords, ${kills} kills, ${lost} lost, ${duplicates} duplicate body runs`);
  expect(kills).toBeGreaterThanOrEqual(10);
  expect(lost).toBe(0);
  expect(states.every((s) => s === 'SUCCESS')).toBe(true);
  for (const [c, body] of bodies.entries()) expect(await body.get({ timeout: 1000 })).toBe(expected(c));
}, 240_000);
