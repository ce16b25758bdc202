/**
 * kombu's raw bodies: bytes as `application/data` (binary) and text as `text/plain` (utf-8).
 */
import { TextDecoder } from 'node:util';
import { DecodeError, EncodeError } from './errors.js';
import type { Serializer } from './serializer.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

export const raw: Serializer = {
  name: 'raw',
  contentType: 'application/data',
  contentEncoding: 'binary',
  encode(body) {
    if (body instanceof Uint8Array) return body;
    if (typeof body === 'string') return Buffer.from(body, 'utf8');
    throw new EncodeError(`the raw serializer sends a Uint8Array or string, got ${typeof body}`);
  },
  decode: (data) => data,
};

export const text: Serializer = {
  name: 'text',
  contentType: 'text/plain',
  contentEncoding: 'utf-8',
  encode(body) {
    if (typeof body !== 'string') throw new EncodeError(`the text serializer sends a string, got ${typeof body}`);
    return Buffer.from(body, 'utf8');
  },
  decode(data) {
    try {
      return decoder.decode(data);
    } catch (cause) {
      throw new DecodeError('text/plain body is not valid utf-8', { cause });
    }
  },
};
