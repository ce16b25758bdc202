import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthenticationError, Connection, ConnectionError, Exchange, NotFoundError, parseUrl, Queue, QueueEmptyError, silentLogger } from '@nori/core';
import { connectOptions } from '@nori/amqp';
import { AMQP_URL } from '@nori/testing/brokers';

const options = { transportOptions: {}, logger: silentLogger, connectTimeout: 1000 };
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
/** One confirmed JSON message to the queue named by argv[1], with amqplib, from another process. */
const PUBLISH_ONE = `import amqplib from 'amqplib';
const c = await amqplib.connect(${JSON.stringify(AMQP_URL)});
const ch = await c.createConfirmChannel();
ch.sendToQueue(process.argv[1], Buffer.from('"late"'), { contentType: 'application/json', contentEncoding: 'utf-8' });
await ch.waitForConfirms();
await c.close();`;

describe('AMQP URLs follow kombu', () => {
  it('virtual host from the path: "//" is "/", none is "/", "/prod" is "prod"; guest/guest by default', () => {
    expect(connectOptions(parseUrl('amqp://h//'), options).connect.vhost).toBe('/');
    expect(connectOptions(parseUrl('amqp://h'), options).connect.vhost).toBe('/');
    expect(connectOptions(parseUrl('pyamqp://u:p%2Fw@h:5673/prod'), options).connect).toMatchObject({
      vhost: 'prod',
      username: 'u',
      password: 'p/w',
      port: 5673,
      protocol: 'amqp',
    });
    expect(connectOptions(parseUrl('amqp://h'), options).connect).toMatchObject({ username: 'guest', password: 'guest', port: 5672 });
    expect(connectOptions(parseUrl('amqps://h'), options).connect).toMatchObject({ protocol: 'amqps', port: 5671 });
    expect(connectOptions(parseUrl('amqp://h?heartbeat=15'), options).connect.heartbeat).toBe(15);
  });
});

describe('AMQP errors are clear and the transport keeps working', () => {
  const conn = new Connection(AMQP_URL);
  afterAll(() => conn.close());

  it('publishing to a missing exchange rejects with NotFoundError; the next publish works', async () => {
    const producer = conn.producer();
    await expect(producer.publish({ a: 1 }, { exchange: `missing-${randomUUID()}`, routingKey: 'x' })).rejects.toThrow(NotFoundError);
    const q = new Queue(`after-404-${randomUUID().slice(0, 8)}`);
    await producer.publish({ ok: true }, { routingKey: q.name, declare: [q] });
    const m = await conn.simpleQueue(q).get({ timeout: 2000 });
    expect(m.body).toEqual({ ok: true });
    await m.ack();
    await conn.deleteQueue(q);
  });

  it('one publish to a missing exchange fails alone: the concurrent ones resolve and arrive', async () => {
    const producer = conn.producer();
    const q = new Queue(`many-${randomUUID().slice(0, 8)}`);
    await conn.declare(q);
    const missing = `missing-${randomUUID()}`;
    const results = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) =>
        i === 200 ? producer.publish({ i }, { exchange: missing, routingKey: 'x' }) : producer.publish({ i }, { routingKey: q.name }),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed).toEqual([200]);
    expect((results[200] as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
    expect((results[200] as PromiseRejectedResult).reason.message).toContain(missing);
    // Each of the 399 exactly once: those sent before the 404 were routed (RabbitMQ handles a
    // channel's commands in order), only those after it were discarded and go again.
    const ids: number[] = [];
    const simple = conn.simpleQueue(q);
    for (;;) {
      const m = await simple.getNowait().catch((e: unknown) => (e instanceof QueueEmptyError ? undefined : Promise.reject(e)));
      if (!m) break;
      ids.push((m.body as { i: number }).i);
      await m.ack();
    }
    expect(ids.length - new Set(ids).size).toBe(0);
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i).filter((i) => i !== 200));
    await conn.deleteQueue(q);
  });

  it('confirms: false resolves once written; a loss is an error event, not a rejected publish', async () => {
    const producer = conn.producer({ confirms: false });
    const q = new Queue(`unconfirmed-${randomUUID().slice(0, 8)}`);
    await conn.declare(q);
    const errors: Error[] = [];
    const onError = (e: Error): void => void errors.push(e);
    conn.on('error', onError);
    try {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => producer.publish({ i }, { routingKey: q.name })));
      // The trade-off: a message the broker drops still resolves; the channel's error is an event
      // (what is written behind it before the broker's close arrives is dropped too).
      await producer.publish('lost', { exchange: `missing-${randomUUID()}`, routingKey: 'x' });
      while (errors.length === 0) await new Promise((r) => setTimeout(r, 10));
      await producer.publish({ i: 1000 }, { routingKey: q.name });
      const deadline = Date.now() + 10_000;
      while ((await conn.queueStatus(q)).messageCount < 1001 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect((await conn.queueStatus(q)).messageCount).toBe(1001);
      expect(errors.map((e) => e.constructor.name)).toEqual(['NotFoundError']);
      expect(errors[0]?.message).toMatch(/confirms: false/);
    } finally {
      conn.off('error', onError);
      await conn.deleteQueue(q);
    }
  });

  it('checking a missing queue is NotFoundError; redeclaring with other arguments is refused clearly', async () => {
    await expect(conn.queueStatus(`nope-${randomUUID()}`)).rejects.toThrow(NotFoundError);
    const name = `args-${randomUUID().slice(0, 8)}`;
    await conn.declare(new Queue(name, { maxPriority: 5 }));
    await expect(conn.declare(new Queue(name, { maxPriority: 9 }))).rejects.toThrow(/PRECONDITION_FAILED|inequivalent/);
    await conn.deleteQueue(name);
  });

  it('exchange-to-exchange bindings route', async () => {
    const transport = await conn.transport();
    const source = new Exchange(`src-${randomUUID().slice(0, 8)}`, { type: 'topic' });
    const dest = new Exchange(`dst-${randomUUID().slice(0, 8)}`, { type: 'fanout' });
    const q = new Queue(`e2e-${randomUUID().slice(0, 8)}`, { exchange: dest });
    await conn.declare(source);
    await conn.declare(q);
    await transport.bindExchange?.(dest.name, source.name, 'a.#');
    await conn.producer().publish('via two exchanges', { exchange: source, routingKey: 'a.b' });
    try {
      const m = await conn.simpleQueue(q).get({ timeout: 2000 });
      expect(m.body).toBe('via two exchanges');
      await m.ack();
    } finally {
      await conn.deleteQueue(q);
      await conn.deleteExchange(source);
      await conn.deleteExchange(dest);
    }
  });
});

describe('bad credentials', () => {
  const wrong = new URL(AMQP_URL);
  wrong.password = 'not-the-password';
  const url = wrong.toString();

  it('connect and publish reject with AuthenticationError, the password masked', async () => {
    const conn = new Connection(url);
    try {
      const refused = await conn.connect().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AuthenticationError);
      expect((refused as Error).message).toMatch(/ACCESS_REFUSED/);
      expect((refused as Error).message).not.toContain('not-the-password');
      await expect(conn.producer().publish('x', { routingKey: 'nowhere' })).rejects.toThrow(AuthenticationError);
    } finally {
      await conn.close();
    }
  });

  it('ensureConnection stops at the first refusal instead of retrying', async () => {
    const conn = new Connection(url);
    let retries = 0;
    conn.on('reconnecting', () => retries++);
    try {
      await expect(conn.ensureConnection({ maxRetries: 5, intervalStart: 2000 })).rejects.toThrow(AuthenticationError);
      expect(retries).toBe(0);
    } finally {
      await conn.close();
    }
  });
});

describe('a connect error', () => {
  it('names each masked URL once and the cause, and is a retryable ConnectionError', async () => {
    const conn = new Connection('amqp://guest:s3cret@127.0.0.1:1//;amqp://guest:s3cret@127.0.0.1:2//');
    try {
      const error = (await conn.connect().catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message.split('amqp://guest:**@127.0.0.1:1//').length).toBe(2);
      expect(error.message.split('amqp://guest:**@127.0.0.1:2//').length).toBe(2);
      expect(error.message).toMatch(/ECONNREFUSED/);
      expect(error.message).not.toContain('s3cret');
      expect((error.cause as Error).message).toMatch(/ECONNREFUSED/);
    } finally {
      await conn.close();
    }
  });
});

describe('SimpleQueue.get with a timeout', () => {
  const conn = new Connection(AMQP_URL);
  const other = new Connection(AMQP_URL);
  afterAll(() => Promise.all([conn.close(), other.close()]));

  it('a message delivered after the timeout fired, before the cancel, goes back to the queue', async () => {
    const q = new Queue(`late-${randomUUID().slice(0, 8)}`, { durable: false });
    await conn.declare(q);
    try {
      const getting = conn
        .simpleQueue(q)
        .get({ timeout: 300 })
        .then(
          async (m) => {
            await m.ack();
            return 'returned';
          },
          (e: unknown) => (e instanceof QueueEmptyError ? 'empty' : Promise.reject(e)),
        );
      while ((await other.queueStatus(q)).consumerCount === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      // Publish from another process while this event loop is held past the timeout, in the
      // check phase: the next loop turn runs the expired timer first, then reads the delivery.
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          const held = Date.now();
          execFileSync(process.execPath, ['--input-type=module', '-e', PUBLISH_ONE, q.name], { cwd: PACKAGE_DIR, stdio: 'ignore' });
          while (Date.now() < held + 1000);
          resolve();
        }),
      );
      const outcome = await getting;
      if (outcome === 'empty') {
        const deadline = Date.now() + 5000;
        while ((await other.queueStatus(q)).messageCount === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect((await other.queueStatus(q)).messageCount).toBe(1);
        const m = await conn.simpleQueue(q).get({ timeout: 2000 });
        expect(m.body).toBe('late');
        await m.ack();
      }
    } finally {
      await conn.deleteQueue(q);
    }
  });
});

describe('coalesced socket writes (the socket is corked per burst)', () => {
  const conn = new Connection(AMQP_URL);
  afterAll(() => conn.close());

  it('a burst of 5,000 publishes and their acks arrive complete and in order', async () => {
    const q = new Queue(`burst-${randomUUID().slice(0, 8)}`, { autoDelete: false });
    const producer = conn.producer();
    await conn.declare(q);
    await Promise.all(Array.from({ length: 5000 }, (_, i) => producer.publish({ i }, { routingKey: q.name })));
    expect((await conn.queueStatus(q)).messageCount).toBe(5000);
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => {
      const consumer = conn.consumer([q], { prefetch: 1000 }, async (message) => {
        seen.push((message.body as { i: number }).i);
        await message.ack();
        if (seen.length === 5000) void consumer.stop().then(resolve);
      });
      void consumer.start();
    });
    await done;
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    // Every ack reached the broker: nothing is left unacknowledged or ready.
    const status = await conn.queueStatus(q);
    expect(status.messageCount).toBe(0);
    await conn.deleteQueue(q);
  });
});

describe('channels are opened once under concurrency', () => {
  it('20 concurrent get()s on a fresh connection share one channel, and every ack lands', async () => {
    const conn = new Connection(AMQP_URL);
    const q = new Queue(`gets-${randomUUID().slice(0, 8)}`);
    try {
      const producer = conn.producer();
      await conn.declare(q);
      await Promise.all(Array.from({ length: 20 }, (_, i) => producer.publish({ i }, { routingKey: q.name })));
      const other = new Connection(AMQP_URL);
      const messages = await Promise.all(Array.from({ length: 20 }, () => other.simpleQueue(q).getNowait()));
      expect(messages.map((m) => (m.body as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      await Promise.all(messages.map((m) => m.ack()));
      await other.close(); // unacked messages would come back to the queue here
      expect((await conn.queueStatus(q)).messageCount).toBe(0);
    } finally {
      await conn.deleteQueue(q);
      await conn.close();
    }
  });
});

describe('quorum queues', () => {
  const conn = new Connection(AMQP_URL);
  afterAll(() => conn.close());

  it('declares x-queue-type quorum and exposes the delivery count on redelivery', async () => {
    const q = new Queue(`quorum-${randomUUID().slice(0, 8)}`, { durable: true, queueArguments: { 'x-queue-type': 'quorum' } });
    await conn.producer().publish({ id: 'q1' }, { routingKey: q.name, declare: [q] });
    const simple = conn.simpleQueue(q);
    const first = await simple.get({ timeout: 2000 });
    expect([first.body, first.redelivered, first.deliveryInfo.deliveryCount]).toEqual([{ id: 'q1' }, false, 0]);
    await first.requeue();
    const second = await simple.get({ timeout: 2000 });
    expect([second.body, second.redelivered, second.deliveryInfo.deliveryCount]).toEqual([{ id: 'q1' }, true, 1]);
    await second.ack();
    await conn.deleteQueue(q);
  });
});
