/**
 * 10,000 messages flow while consumer processes are SIGKILLed at random points: afterwards every
 * id was delivered at least once and nothing of the queue is left in `unacked`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { Connection, Queue } from '@nori/core';
import '@nori/redis';

const URL_ = 'redis://127.0.0.1:6379/0';
const TOTAL = 10_000;
const root = fileURLToPath(new URL('../../..', import.meta.url));
const child = fileURLToPath(new URL('./fault-consumer.ts', import.meta.url));

function startConsumer(queue: string, delivered: Set<number>, redelivered: Set<number>): { proc: ChildProcess; ready: Promise<void> } {
  const proc = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', child, URL_, queue, '1000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let buffer = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  proc.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') markReady();
      else if (line) {
        const [id, flag] = line.split(' ');
        delivered.add(Number(id));
        if (flag === 'redelivered') redelivered.add(Number(id));
      }
    }
  });
  return { proc, ready };
}

it('SIGKILLed consumers lose nothing: every id arrives, unacked is left empty', async () => {
  const queue = new Queue(`fault-kill-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(URL_);
  const producer = conn.producer();
  await conn.declare(queue);
  const ids = Array.from({ length: TOTAL }, (_, i) => i);
  for (let i = 0; i < TOTAL; i += 500) {
    await Promise.all(ids.slice(i, i + 500).map((id) => producer.publish({ id }, { routingKey: queue.name })));
  }

  const delivered = new Set<number>();
  const redelivered = new Set<number>();
  let kills = 0;
  // Kill consumers at random points (they consume thousands per second), then let one finish.
  while (delivered.size < TOTAL && kills < 8) {
    const { proc, ready } = startConsumer(queue.name, delivered, redelivered);
    await ready;
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 120));
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    kills++;
  }
  const { proc, ready } = startConsumer(queue.name, delivered, redelivered);
  await ready;
  const deadline = Date.now() + 60_000;
  while (delivered.size < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  proc.kill('SIGKILL');

  expect(kills).toBeGreaterThanOrEqual(4);
  expect(delivered.size).toBe(TOTAL);
  // The kills landed mid-stream: messages in flight in a killed process came back.
  expect(redelivered.size).toBeGreaterThan(0);
  expect(await conn.queueSize(queue)).toBe(0);
  const redis = new Redis(6379, '127.0.0.1');
  const leftover = Object.values(await redis.hgetall('unacked')).filter((triple) => triple.endsWith(`"${queue.name}"]`));
  await redis.quit();
  expect(leftover).toEqual([]);
  await conn.close();
}, 120_000);
