/**
 * The default body limit: 128 MiB (RabbitMQ's own) at publish, where a transport has no smaller
 * one of its own (Redis: see its README), and at decode. The transport option `maxBodySize` at
 * publish is a conformance case (@nori/testing, basic).
 */
import { expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_SIZE, decodeBody, MessageTooLargeError } from '@nori/core';

it('the default is 128 MiB at publish and at decode', () => {
  expect(DEFAULT_MAX_BODY_SIZE).toBe(128 * 1024 * 1024);
  const over = { byteLength: DEFAULT_MAX_BODY_SIZE + 1 } as Uint8Array;
  expect(() => decodeBody(over, 'application/data', 'binary', {}, {})).toThrow(MessageTooLargeError);
});
