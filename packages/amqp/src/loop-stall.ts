/**
 * How long the event loop went without turning. A handler that blocks it (CPU-bound work) blocks
 * amqplib's heartbeats too: past the heartbeat timeout RabbitMQ closes the connection and hands this
 * consumer's unacked messages to others. The close is read only once the loop turns, and by then a
 * consumer may have started the next prefetched message, a second run of it. A timer that should
 * fire every `TICK_MS` shows such a stall at once (see `Delivery.lost`). It runs while a
 * subscription does, unref'd.
 */
const TICK_MS = 500;
/** Stalls are remembered this long: a prefetched message waits no longer than this for a slot, as a rule. */
const KEEP_MS = 3_600_000;

let last = Date.now();
let users = 0;
let timer: NodeJS.Timeout | undefined;
/** Stalls longer than two ticks: [ended at, lasted], oldest first. */
const stalls: Array<readonly [end: number, length: number]> = [];

function tick(): void {
  const now = Date.now();
  const gap = now - last;
  last = now;
  if (gap > 2 * TICK_MS) stalls.push([now, gap]);
  while (stalls.length > 0 && (stalls[0] as readonly [number, number])[0] < now - KEEP_MS) stalls.shift();
}

/** Watch the loop while the returned function has not been called. */
export function watchLoop(): () => void {
  if (users++ === 0) {
    last = Date.now();
    timer = setInterval(tick, TICK_MS);
    timer.unref();
  }
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    if (--users === 0) clearInterval(timer);
  };
}

/**
 * How long the loop was stalled around a delivery that arrived at `receivedAt` (epoch ms): the
 * longest stall under way now or ended after it arrived, or ended just before it (what the socket
 * buffered during a stall is read right after it, before the close that may follow in that data).
 */
export function stallAround(receivedAt: number): number {
  const since = receivedAt - 2 * TICK_MS;
  let longest = users > 0 ? Date.now() - last : 0;
  for (const [end, length] of stalls) if (end > since && length > longest) longest = length;
  return longest;
}
