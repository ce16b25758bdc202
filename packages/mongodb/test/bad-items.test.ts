/**
 * A stored document nori cannot read (a payload that is not JSON; a property that is not text) is
 * taken out on its own with an `error` event; the good messages of the same claim batch arrive.
 * It used to be claimed again and again, and the good ones of its batch never delivered.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection, DecodeError, Queue } from '@nori/core';
import '@nori/mongodb';
import { collect } from '@nori/testing';
import { mongoUrl, startServer, stopServer } from './server.js';

beforeAll(startServer);
afterAll(stopServer);

it('unreadable documents are dropped alone with an error; the batch is delivered', async () => {
  const q = new Queue(`bad-items-${randomUUID().slice(0, 8)}`);
  const conn = new Connection(mongoUrl, { transportOptions: { leaseMs: 1000 } });
  const errors: Error[] = [];
  conn.on('error', (e) => errors.push(e));
  const client = new MongoClient(mongoUrl);
  try {
    await conn.declare(q);
    const producer = conn.producer();
    const raw = client.db('nori_test').collection('nori.messages');
    const bad = (payload: string, seq: number) => ({
      queue: q.name,
      tag: randomUUID(),
      rank: 0,
      seq,
      visibleAt: 0,
      leaseUntil: null,
      deliveryCount: 0,
      redelivered: false,
      payload,
    });
    await producer.publish({ n: 1 }, { routingKey: q.name });
    await raw.insertOne(bad('this is not json', Date.now() * 1000 + 1));
    await producer.publish({ n: 2 }, { routingKey: q.name });
    const envelope = {
      body: Buffer.from('{"n":"bad"}').toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: {},
      properties: { body_encoding: 'base64', delivery_tag: 't', delivery_info: { exchange: '', routing_key: q.name }, correlation_id: { toString: 1 } },
    };
    await raw.insertOne(bad(JSON.stringify(envelope), Date.now() * 1000 + 2));
    await producer.publish({ n: 3 }, { routingKey: q.name });

    const got = await collect(conn, [q], 3, { timeoutMs: 5000 });
    expect(got.map((m) => m.body)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(errors.map((e) => e instanceof DecodeError && e.message.includes(q.name))).toEqual([true, true]);
    expect(await raw.countDocuments({ queue: q.name })).toBe(0);
  } finally {
    await client.close();
    await conn.deleteQueue(q);
    await conn.close();
  }
});
