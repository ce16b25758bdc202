/**
 * Broker throughput through nori's own API: publish `count` messages of `size` bytes to a fresh
 * queue (in windows of `window` unconfirmed publishes), then consume them all with acks.
 * The queue is deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Connection, Queue } from '@nori/core';

export interface TransportResult {
  url: string;
  count: number;
  size: number;
  publishPerSec: number;
  consumePerSec: number;
}

export interface TransportBenchOptions {
  count: number;
  size: number;
  window: number;
  prefetch: number;
  /** Handlers running at once (each acks on return). */
  concurrency: number;
  serializer: string;
  onProgress?: (phase: 'publish' | 'consume', done: number) => void;
}

export async function benchTransport(url: string, o: TransportBenchOptions): Promise<TransportResult> {
  const conn = new Connection(url);
  const queue = new Queue(`nori-bench-${randomUUID().slice(0, 8)}`);
  const body = { id: 0, task: 'bench', pad: 'x'.repeat(Math.max(0, o.size - 40)) };
  try {
    await conn.connect();
    await conn.declare(queue);
    const producer = conn.producer({ serializer: o.serializer });
    const step = Math.max(1, Math.floor(o.count / 20));
    let t = performance.now();
    for (let i = 0; i < o.count; i += o.window) {
      const n = Math.min(o.window, o.count - i);
      await Promise.all(Array.from({ length: n }, (_, j) => producer.publish({ ...body, id: i + j }, { routingKey: queue.name })));
      if (Math.floor((i + n) / step) !== Math.floor(i / step)) o.onProgress?.('publish', i + n);
    }
    const publishMs = performance.now() - t;
    let received = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    t = performance.now();
    const consumer = conn.consumer([queue], { prefetch: o.prefetch, concurrency: o.concurrency }, () => {
      if (++received % step === 0) o.onProgress?.('consume', received);
      if (received === o.count) done();
    });
    await consumer.start();
    await finished;
    const consumeMs = performance.now() - t;
    await consumer.stop();
    return { url: conn.info().url, count: o.count, size: o.size, publishPerSec: (o.count * 1000) / publishMs, consumePerSec: (o.count * 1000) / consumeMs };
  } finally {
    await conn.deleteQueue(queue).catch(() => undefined);
    await conn.close();
  }
}
