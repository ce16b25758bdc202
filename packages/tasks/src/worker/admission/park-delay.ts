/**
 * How long a parked ETA message waits in the broker. With a delayed set (Redis, MongoDB, memory)
 * exactly the remaining time. On RabbitMQ the transport holds delayed messages in per-level queues
 * whose levels are two significant digits (packages/amqp/src/delay-levels.ts), rounded to the
 * nearest: rounding up would run the task late, so the delay is rounded down to a level here and
 * the message comes back a little early, to be parked again for the rest (or held for the last
 * second). A one-hour ETA takes two or three hops.
 */
export function parkDelay(waitMs: number, nativeDelay: boolean): number {
  if (nativeDelay) return waitMs;
  const step = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(waitMs, 1))) - 1);
  return Math.floor(waitMs / step) * step;
}
