/**
 * kombu's zlib is built into core (Celery's workers, and nori's, send task events as zlib batches):
 * a program that imports only @nori/core reads and writes it, with the decompression cap.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Connection, DEFAULT_MAX_DECOMPRESSED_BYTES, findCompressor, MessageTooLargeError } from '@nori/core';

// zlib.compress(b'[{"type": "task-succeeded", "uuid": "id-1"}]') in Python, as kombu's zlib codec writes it.
const FROM_PYTHON = 'eJyLrlYqqSxIVbJSUCpJLM7WLS5NTk5NTUlNUdJRUCotzUwByWSm6Boq1cYCAEfHDeo=';

it('is registered on import under its name and MIME type, and reads what Python wrote', () => {
  const zlib = findCompressor('application/x-gzip');
  expect(zlib?.name).toBe('zlib');
  expect(findCompressor('zlib')).toBe(zlib);
  const text = new TextDecoder().decode(zlib?.decompress(Buffer.from(FROM_PYTHON, 'base64'), DEFAULT_MAX_DECOMPRESSED_BYTES));
  expect(JSON.parse(text)).toEqual([{ type: 'task-succeeded', uuid: 'id-1' }]);
  expect(() => zlib?.decompress(Buffer.from(FROM_PYTHON, 'base64'), 10)).toThrow(MessageTooLargeError);
});

it('compresses a published body a consumer reads back', async () => {
  const conn = new Connection('memory://');
  const queue = `zlib-${randomUUID().slice(0, 8)}`;
  const q = conn.simpleQueue(queue, { compression: 'zlib' });
  await q.put({ rows: Array.from({ length: 50 }, (_, i) => ({ i, name: 'same text again' })) });
  const m = await q.get({ timeout: 2000 });
  expect(m.headers.compression).toBe('application/x-gzip');
  expect(m.rawBody.length).toBeLessThan(400);
  expect((m.body as { rows: unknown[] }).rows).toHaveLength(50);
  await m.ack();
  await conn.close();
});
