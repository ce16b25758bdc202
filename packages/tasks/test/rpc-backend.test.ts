/**
 * The rpc:// backend's messages, on a real broker (RabbitMQ, in this suite's vhost): a result is
 * a message to the caller's reply queue with correlation_id = the task id (another when the
 * origin names one), non-persistent, through the default exchange; nothing is sent without a
 * reply queue; a reply that names its task only in the body (task_id) is read, one that names none
 * or is no task state is dropped with a warning; the latest state per id is kept until forgotten.
 * The contract shared with the other backends is in backends.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection, DecodeError, NotFoundError, Queue, TimeoutError, type Logger } from '@nori/core';
import '@nori/amqp';
import '@nori/msgpack';
import { createBackend, type ResultBackend } from '@nori/tasks/backends';
import { AMQP_URL } from '@nori/testing/brokers';

const connection = new Connection(AMQP_URL);
const backends: ResultBackend[] = [];
const queues: string[] = [];
afterAll(async () => {
  for (const backend of backends) await backend.close();
  for (const queue of queues) await connection.deleteQueue(queue).catch(() => undefined);
  await connection.close();
});

/** A logger that keeps what was warned: the messages, and each one's fields by message. */
function warnings(): { logger: Logger; seen: string[]; fields: Map<string, unknown> } {
  const seen: string[] = [];
  const fields = new Map<string, unknown>();
  const logger = {
    warn: (context: unknown, message: string) => {
      seen.push(message);
      fields.set(message, context);
    },
    error: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    trace: () => undefined,
    fatal: () => undefined,
    child: () => logger,
    level: 'warn',
  } as unknown as Logger;
  return { logger, seen, fields };
}

function open(logger: Logger = warnings().logger, resultExpires = 60_000, resultSerializer?: string): { backend: ResultBackend; oid: string } {
  const oid = `rpc-test-${randomUUID()}`;
  queues.push(oid);
  const backend = createBackend('rpc://', { connection, oid, resultExpires, logger, resultSerializer });
  backends.push(backend);
  return { backend, oid };
}

describe('rpc:// result backend', () => {
  it("sends a result to the origin's reply queue, non-persistent, correlation_id the task id or the origin's", async () => {
    const { backend: caller, oid } = open();
    await caller.onTaskCall?.('t');
    const { backend: worker } = open();
    const id = randomUUID();
    // A second consumer on the reply queue would take messages from the caller's: read the
    // caller's reply queue only through what the caller reads.
    await worker.storeResult(id, 'SUCCESS', { ok: 1 }, { origin: { replyTo: oid, correlationId: id } });
    expect(await caller.waitFor(id, { timeout: 5000 })).toMatchObject({ taskId: id, state: 'SUCCESS', result: { ok: 1 } });
    const other = randomUUID();
    await worker.storeResult(other, 'SUCCESS', 'by default', { origin: { replyTo: oid } });
    expect((await caller.waitFor(other, { timeout: 5000 })).result).toBe('by default');
    const chordBody = randomUUID();
    await worker.storeResult(randomUUID(), 'SUCCESS', 'as the body', { origin: { replyTo: oid, correlationId: chordBody } });
    expect((await caller.waitFor(chordBody, { timeout: 5000 })).result).toBe('as the body');
  });

  it('publishes through the default exchange, non-persistent, to the reply queue', async () => {
    const { backend: worker } = open();
    const queue = `rpc-test-raw-${randomUUID()}`;
    queues.push(queue);
    await connection.declare(new Queue(queue));
    const q = connection.simpleQueue(queue);
    const id = randomUUID();
    await worker.storeResult(id, 'FAILURE', new TypeError('bad'), { traceback: 'tb', origin: { replyTo: queue } });
    const m = await q.get({ timeout: 5000 });
    await m.ack();
    expect(m.properties).toMatchObject({ correlationId: id, deliveryMode: 1 });
    expect(m.deliveryInfo).toMatchObject({ exchange: '', routingKey: queue });
    expect(m.body).toMatchObject({
      status: 'FAILURE',
      result: { exc_type: 'TypeError', exc_message: ['bad'], exc_module: 'builtins' },
      traceback: 'tb',
      task_id: id,
    });
  });

  it('sends nothing without a reply queue', async () => {
    const { backend: worker } = open();
    await expect(worker.storeResult(randomUUID(), 'SUCCESS', 1, { origin: {} })).resolves.toBeUndefined();
    await expect(worker.storeResult(randomUUID(), 'SUCCESS', 1, { origin: { replyTo: '' } })).resolves.toBeUndefined();
    await expect(worker.storeResult(randomUUID(), 'SUCCESS', 1)).resolves.toBeUndefined();
  });

  it('reads a reply by its body task_id without correlation_id; drops one naming no task or that is no task state, with a warning', async () => {
    const { logger, seen, fields } = warnings();
    const { backend, oid } = open(logger);
    await backend.onTaskCall?.('t');
    const producer = connection.producer();
    const id = randomUUID();
    await producer.publish({ status: 'SUCCESS', result: 'by body', task_id: id }, { exchange: '', routingKey: oid });
    expect((await backend.waitFor(id, { timeout: 5000 })).result).toBe('by body');
    await producer.publish({ status: 'SUCCESS', result: 'nobody', task_id: 5 }, { exchange: '', routingKey: oid });
    await producer.publish(null, { exchange: '', routingKey: oid });
    await expect.poll(() => seen.filter((m) => m === 'rpc:// reply without correlation_id or task_id dropped')).toHaveLength(2);
    expect(fields.get('rpc:// reply without correlation_id or task_id dropped')).toEqual({ queue: oid });
    const odd = randomUUID();
    await producer.publish({ status: 'STARTED', result: null, task_id: odd }, { exchange: '', routingKey: oid, correlationId: odd });
    await expect.poll(async () => (await backend.getResult(odd)).state).toBe('STARTED');
    await producer.publish({ result: 'no status' }, { exchange: '', routingKey: oid, correlationId: odd });
    await expect.poll(() => seen).toContain('rpc:// reply is not a task state; dropped');
    expect(fields.get('rpc:// reply is not a task state; dropped')).toEqual({ taskId: odd, err: expect.any(DecodeError) });
    expect(seen.filter((m) => m !== 'rpc:// reply without correlation_id or task_id dropped' && m !== 'rpc:// reply is not a task state; dropped')).toEqual([]);
    // The state read before stays.
    expect((await backend.getResult(odd)).state).toBe('STARTED');
  });

  it('keeps the latest state per id until read or forgotten', async () => {
    const { logger, seen } = warnings();
    const { backend, oid } = open(logger);
    await backend.onTaskCall?.('t');
    const { backend: worker } = open();
    const id = randomUUID();
    await worker.storeResult(id, 'STARTED', null, { origin: { replyTo: oid } });
    await expect.poll(async () => (await backend.getResult(id)).state).toBe('STARTED');
    await worker.storeResult(id, 'SUCCESS', 2, { origin: { replyTo: oid } });
    await expect.poll(async () => (await backend.getResult(id)).state).toBe('SUCCESS');
    expect((await backend.getResult(id)).result).toBe(2);
    await backend.forget(id);
    expect((await backend.getResult(id)).state).toBe('PENDING');
    // Replies for ids nobody waits on are no consumer errors.
    expect(seen).toEqual([]);
  });

  it('wakes every waiter on an id, and one leaving does not stop the others', async () => {
    const { backend, oid } = open();
    const { backend: worker } = open();
    const id = randomUUID();
    const first = backend.waitFor(id, { timeout: 10_000 });
    const second = backend.waitFor(id, { timeout: 10_000 });
    const short = backend.waitFor(id, { timeout: 200 });
    await expect(short).rejects.toBeInstanceOf(TimeoutError);
    await worker.storeResult(id, 'SUCCESS', 'all', { origin: { replyTo: oid } });
    expect((await first).result).toBe('all');
    expect((await second).result).toBe('all');
  });

  it('declares the reply queue as Celery does: not durable, auto-delete, x-expires the result expiry (none for 0)', async () => {
    const { backend, oid } = open(undefined, 60_000);
    await backend.onTaskCall?.('t');
    const { backend: forever, oid: foreverOid } = open(undefined, 0);
    await forever.onTaskCall?.('t');
    const redeclare = async (queue: Queue): Promise<unknown> => {
      const probe = new Connection(AMQP_URL);
      try {
        return await probe.declare(queue).then(
          () => 'same',
          (error: unknown) => error,
        );
      } finally {
        await probe.close();
      }
    };
    expect(await redeclare(new Queue(oid, { durable: false, autoDelete: true, expires: 60_000 }))).toBe('same');
    expect(await redeclare(new Queue(oid, { durable: false, autoDelete: true, expires: 30_000 }))).not.toBe('same');
    expect(await redeclare(new Queue(foreverOid, { durable: false, autoDelete: true }))).toBe('same');
    // Auto-delete: closing the backend cancels the last consumer, and the queue goes.
    await backend.close();
    await expect(connection.queueStatus(oid)).rejects.toBeInstanceOf(NotFoundError);
    expect((await connection.queueStatus(foreverOid)).consumerCount).toBe(1);
    await expect(open().backend.close()).resolves.toBeUndefined();
  });

  it('declares the reply queue again on the next call after a declaration failed', async () => {
    const { backend, oid } = open();
    const probe = new Connection(AMQP_URL);
    try {
      await probe.declare(new Queue(oid, { durable: true }));
      await expect(backend.onTaskCall?.('t')).rejects.toThrow();
      await probe.deleteQueue(oid);
    } finally {
      await probe.close();
    }
    await backend.onTaskCall?.('t');
    const { backend: worker } = open();
    const id = randomUUID();
    await worker.storeResult(id, 'SUCCESS', 'declared', { origin: { replyTo: oid } });
    expect((await backend.waitFor(id, { timeout: 5000 })).result).toBe('declared');
  });

  it('sends and reads replies with the result serializer', async () => {
    const { backend, oid } = open(undefined, 60_000, 'msgpack');
    await backend.onTaskCall?.('t');
    const { backend: worker } = open(undefined, 60_000, 'msgpack');
    const raw = `rpc-test-raw-${randomUUID()}`;
    queues.push(raw);
    await connection.declare(new Queue(raw));
    await worker.storeResult('t-raw', 'SUCCESS', { n: 1 }, { origin: { replyTo: raw } });
    const m = await connection.simpleQueue(raw).get({ timeout: 5000 });
    await m.ack();
    expect(m.contentType).toBe('application/x-msgpack');
    const id = randomUUID();
    await worker.storeResult(id, 'SUCCESS', { n: 2 }, { origin: { replyTo: oid } });
    expect((await backend.waitFor(id, { timeout: 5000 })).result).toEqual({ n: 2 });
  });
});
