/**
 * Task meta documents to bytes and back with the result serializer (Celery's result_serializer,
 * JSON by default), as key-value backends store them.
 */
import { getSerializer, type Serializer } from '@nori/core';
import type { StoredResult } from '../backend.js';
import { fromTaskMeta, type TaskMeta } from './task-meta.js';

export class ResultCodec {
  readonly serializer: Serializer;

  constructor(serializer = 'json') {
    this.serializer = getSerializer(serializer);
  }

  encode(meta: TaskMeta): Uint8Array {
    return this.serializer.encode(meta);
  }

  decode(data: Uint8Array, taskId: string): StoredResult {
    return fromTaskMeta(this.serializer.decode(data), taskId);
  }
}
