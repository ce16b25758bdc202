/**
 * A consumer process SIGKILLed after its retry republish was confirmed and before it acked the
 * original loses nothing: the original comes back (connection gone on RabbitMQ, lease lapsed on
 * Redis and MongoDB) and the republished copy arrives after its delay with the next attempt number. Only the
 * child this test spawns is killed, on queues only this test uses.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@nori/amqp';
import '@nori/mongodb';
import '@nori/redis';
import { ATTEMPT_HEADER, Connection, Queue } from '@nori/core';
import { collect } from '@nori/testing';
import { mongoUrl, startServer, stopServer } from '../packages/mongodb/test/server.js';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';

const root = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./retry-consumer.ts', import.meta.url));
const LEASE_MS = 1000;

const brokers = [
  { name: 'amqp', url: AMQP_URL, imports: ['@nori/amqp'] },
  { name: 'redis', url: redisUrl(), imports: ['@nori/redis'] },
  { name: 'mongodb', url: mongoUrl, imports: ['@nori/mongodb'] },
] as const;

// The in-process MongoDB-compatible server (or MONGODB_URI); the other brokers are the shared ones.
beforeAll(startServer);
afterAll(stopServer);

describe.each(brokers)('retry republish then SIGKILL before the ack ($name)', ({ name, url, imports }) => {
  it('loses nothing: the original comes back and the copy arrives with the next attempt number', async () => {
    const queue = new Queue(`nori-retry-fault-${name}-${randomUUID().slice(0, 8)}`);
    const conn = new Connection(url, { transportOptions: { leaseMs: LEASE_MS } });
    try {
      const producer = conn.producer();
      for (const id of ['a', 'b', 'c']) await producer.publish({ id }, { routingKey: queue.name, declare: [queue] });

      const proc = spawn(process.execPath, ['--conditions=nori-src', '--import', 'tsx', child, url, queue.name, String(LEASE_MS), JSON.stringify(imports)], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child never republished; stdout: ${stdout}; stderr: ${stderr}`)), 30_000);
        proc.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('republished 2\n')) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.once('exit', (code) => reject(new Error(`child exited (${code}) before republishing: ${stderr}`)));
      });
      proc.removeAllListeners('exit');
      proc.kill('SIGKILL');
      await new Promise((resolve) => proc.once('exit', resolve));
      expect(stdout.split('\n').filter((l) => l.startsWith('handled'))).toEqual(['handled a']);

      // a: the original (redelivered) and the confirmed copy (attempt 2); b and c untouched.
      const got = await collect(conn, [queue], 4, { timeoutMs: 20_000 });
      const seen = got.map((m) => `${(m.body as { id: string }).id}:${String(m.headers[ATTEMPT_HEADER] ?? 1)}`).sort();
      expect(seen).toEqual(['a:1', 'a:2', 'b:1', 'c:1']);
      const original = got.find((m) => (m.body as { id: string }).id === 'a' && m.headers[ATTEMPT_HEADER] === undefined);
      expect(original?.redelivered).toBe(true);
      expect(await conn.queueSize(queue)).toBe(0);
    } finally {
      await conn.deleteQueue(queue).catch(() => undefined);
      await conn.close();
    }
  }, 60_000);
});
