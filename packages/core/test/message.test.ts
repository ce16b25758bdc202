import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Connection, MessageStateError, Queue } from '@nori/core';

async function oneMessage(): Promise<{ conn: Connection; queue: Queue; get: () => ReturnType<ReturnType<Connection['simpleQueue']>['get']> }> {
  const conn = new Connection('memory://');
  const queue = new Queue(`msg-${randomUUID()}`);
  const sq = conn.simpleQueue(queue);
  await sq.put({ id: 1 }, { headers: { k1: 'v1' } });
  return { conn, queue, get: () => sq.get({ timeout: 500 }) };
}

describe('message state machine', () => {
  for (const [first, second] of [
    ['ack', 'ack'],
    ['ack', 'reject'],
    ['reject', 'requeue'],
    ['requeue', 'ack'],
  ] as const) {
    it(`${first} then ${second} throws MessageStateError and changes nothing`, async () => {
      const { conn, queue, get } = await oneMessage();
      const m = await get();
      expect(m.state).toBe('RECEIVED');
      await m[first]();
      expect(m.acknowledged).toBe(true);
      await expect(m[second]()).rejects.toThrow(MessageStateError);
      const expectedLeft = first === 'requeue' ? 1 : 0;
      expect(await conn.queueSize(queue)).toBe(expectedLeft);
      await conn.close();
    });
  }

  it('the body is decoded once, lazily, and headers are exactly as sent', async () => {
    const { conn, get } = await oneMessage();
    const m = await get();
    expect(m.headers).toEqual({ k1: 'v1' });
    expect(m.contentType).toBe('application/json');
    expect(m.contentEncoding).toBe('utf-8');
    const body = m.body;
    expect(body).toEqual({ id: 1 });
    expect(m.body).toBe(body);
    expect(m.redelivered).toBe(false);
    await m.requeue();
    const again = await get();
    expect(again.redelivered).toBe(true);
    expect(again.body).toEqual({ id: 1 });
    await again.ack();
    await conn.close();
  });
});
