/**
 * Task meta documents to bytes and back with the result serializer (Celery's result_serializer,
 * JSON by default), as key-value backends store them.
 */
import { getSerializer, type Serializer } from '@nori/core';
import type { StoredResult } from './backend.js';
import { fromTaskMeta, type TaskMeta } from '../protocol/task-meta.js';

export class ResultCodec {
  readonly serializer: Serializer;

  constructor(serializer = 'json') {
    this.serializer = getSerializer(serializer);
  }

  encode(meta: TaskMeta): Uint8Array {
    return this.serializer.encode(meta);
  }

  /**
   * As a Redis command argument: a text serializer's string (ioredis writes a command of strings
   * in one piece; one Buffer argument makes it assemble and copy every part), else a Buffer over
   * the bytes (any other Uint8Array ioredis would stringify).
   */
  encodeArgument(meta: TaskMeta): string | Buffer {
    if (this.serializer.encodeText) return this.serializer.encodeText(meta);
    const bytes = this.serializer.encode(meta);
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  decode(data: Uint8Array, taskId: string): StoredResult {
    return fromTaskMeta(this.serializer.decode(data), taskId);
  }
}
