/** The property table: every nori property crosses kombu's envelope and amqplib's options under its own name and back unchanged. */
import { describe, expect, it } from 'vitest';
import { DecodeError, type MessageProperties } from '@nori/core';
import { MESSAGE_PROPERTIES, readProperties, writeProperties } from '@nori/core/spi';

const all: Required<MessageProperties> = {
  deliveryMode: 1,
  priority: 7,
  correlationId: 'c-1',
  replyTo: 'r-1',
  expiration: 1500,
  messageId: 'm-1',
  timestamp: 1_700_000_000,
  type: 't',
  userId: 'guest',
  appId: 'a',
};

describe('message properties table', () => {
  it('names every MessageProperties key once', () => {
    expect(MESSAGE_PROPERTIES.map((row) => row.nori).sort()).toEqual(Object.keys(all).sort());
  });

  it('writes kombu names (a TTL as text) and reads them back', () => {
    const out: Record<string, unknown> = {};
    writeProperties(all, out, 'kombu');
    expect(out).toEqual({
      delivery_mode: 1,
      priority: 7,
      correlation_id: 'c-1',
      reply_to: 'r-1',
      expiration: '1500',
      message_id: 'm-1',
      timestamp: 1_700_000_000,
      type: 't',
      user_id: 'guest',
      app_id: 'a',
    });
    expect(readProperties(out, 'kombu')).toEqual(all);
  });

  it('writes amqplib names and reads them back; leaves unset ones out', () => {
    const out: Record<string, unknown> = {};
    writeProperties(all, out, 'amqplib');
    expect(out.correlationId).toBe('c-1');
    expect(out.expiration).toBe('1500');
    expect(readProperties(out, 'amqplib')).toEqual(all);
    const sparse: Record<string, unknown> = {};
    writeProperties({ messageId: 'x' }, sparse, 'amqplib');
    expect(sparse).toEqual({ messageId: 'x' });
  });

  it('drops values of the wrong type, reads numbers as text, refuses an object as text', () => {
    expect(readProperties({ delivery_mode: 3, priority: '5', expiration: '', message_id: 12 }, 'kombu')).toEqual({ messageId: '12' });
    expect(() => readProperties({ reply_to: { a: 1 } }, 'kombu')).toThrow(DecodeError);
  });
});
