/**
 * kombu's Redis key layout (kombu/transport/redis.py): one list per priority bucket, the binding
 * sets, the `unacked` hash and `unacked_index` sorted set, fanout channels; every key and channel
 * behind `global_keyprefix`. nori adds keys kombu never reads: a delayed set, a length limit and a
 * use marker per queue, the hash of exchange declarations, the set of declared queues and the hash
 * of queues with an expiry.
 *
 * On a Redis Cluster every key of a queue must share a hash slot, because the claim and restore
 * scripts touch them together: the queue name is wrapped in a hash tag (`{celery}`), and the
 * in-flight hash and index are per queue instead of kombu's one global pair. kombu has no cluster
 * support, so nothing is lost for it.
 */

/** kombu's separator between a queue name and its priority step, and inside binding members. */
export const SEP = '\x06\x16';

/** Keys every process of the database shares (kombu's and nori's): no queue may be named like one. */
const FIXED_KEYS = new Set(['unacked', 'unacked_index', 'unacked_mutex', '_nori.exchanges', '_nori.queues', '_nori.expiring']);

/**
 * Why `queue` cannot be a queue name on Redis, or undefined when it can: its list would be one of
 * the shared keys (a publish to `unacked` would write into kombu's in-flight hash), a binding set,
 * or another queue's priority bucket.
 */
export function reservedQueueName(queue: string): string | undefined {
  if (FIXED_KEYS.has(queue)) return `"${queue}" is the name of a key kombu and nori keep in every Redis database`;
  if (queue.startsWith('_kombu.binding.')) return `"${queue}" is the name of one of kombu's binding sets`;
  if (queue.includes(SEP)) return `"${JSON.stringify(queue).slice(1, -1)}" contains kombu's separator \\x06\\x16, which names priority buckets`;
  return undefined;
}

/** kombu's default `priority_steps`: wire priorities 0–2 share bucket 0, 3–5 bucket 3, ... */
export const DEFAULT_PRIORITY_STEPS: readonly number[] = [0, 3, 6, 9];

export class Keys {
  constructor(
    readonly prefix: string,
    readonly db: number,
    readonly steps: readonly number[] = DEFAULT_PRIORITY_STEPS,
    readonly cluster = false,
  ) {}

  /** The key every key of a queue starts with: hash-tagged on a cluster. */
  #queue(queue: string): string {
    return this.cluster ? `${this.prefix}{${queue}}` : `${this.prefix}${queue}`;
  }

  /** Bucket lists of a queue, most urgent (wire bucket 0, the bare queue name) first. */
  buckets(queue: string): string[] {
    return this.steps.map((step) => this.bucket(queue, step));
  }

  bucket(queue: string, step: number): string {
    return step === 0 ? this.#queue(queue) : `${this.#queue(queue)}${SEP}${step}`;
  }

  /** kombu's `_q_for_pri`: the largest step not above the wire priority. */
  stepFor(wirePriority: number): number {
    return this.steps[this.bucketIndex(wirePriority)] as number;
  }

  /** Where `stepFor(wirePriority)`'s list is in `buckets()`. */
  bucketIndex(wirePriority: number): number {
    let chosen = 0;
    for (let i = 1; i < this.steps.length; i++) if ((this.steps[i] as number) <= wirePriority) chosen = i;
    return chosen;
  }

  /** The queue's length limit, `<maxLength> <overflow>`: next to its lists (one slot on a cluster). */
  limit(queue: string): string {
    return `${this.#queue(queue)}${SEP}limit`;
  }

  /**
   * A queue with an expiry is in use while this key lives: set with the expiry (PX) at declare and
   * claim (an idle consumer claims every `bucketPollMs`), not at publish. Next to its lists.
   */
  inUse(queue: string): string {
    return `${this.#queue(queue)}${SEP}in_use`;
  }

  delayed(queue: string): string {
    return `${this.#queue(queue)}${SEP}delayed`;
  }

  binding(exchange: string): string {
    return `${this.prefix}_kombu.binding.${exchange}`;
  }

  get bindingPattern(): string {
    return `${this.prefix}_kombu.binding.*`;
  }

  /** kombu's `unacked` hash: one for every queue, or the queue's own on a cluster. */
  unacked(queue: string): string {
    return this.cluster ? `${this.#queue(queue)}${SEP}unacked` : `${this.prefix}unacked`;
  }

  unackedIndex(queue: string): string {
    return this.cluster ? `${this.#queue(queue)}${SEP}unacked_index` : `${this.prefix}unacked_index`;
  }

  get unackedMutex(): string {
    return `${this.prefix}unacked_mutex`;
  }

  get exchanges(): string {
    return `${this.prefix}_nori.exchanges`;
  }

  get queues(): string {
    return `${this.prefix}_nori.queues`;
  }

  /** Queues declared with an expiry → the expiry (ms): what the sweep looks at (see `inUse`). */
  get expiring(): string {
    return `${this.prefix}_nori.expiring`;
  }

  /**
   * kombu's fanout channel: `/{db}.{exchange}` (its `fanout_prefix`), followed by `/{routing_key}`
   * when there is a routing key and kombu's `fanout_patterns` is on; as kombu publishes it.
   */
  fanoutChannel(exchange: string, routingKey = ''): string {
    const base = `${this.prefix}/${this.db}.${exchange}`;
    return routingKey === '' ? base : `${base}/${routingKey}`;
  }

  /** PSUBSCRIBE pattern for every routing key of a fanout exchange (glob characters escaped). */
  fanoutPattern(exchange: string): string {
    return `${this.fanoutChannel(exchange).replace(/[*?[\]\\]/g, '\\$&')}/*`;
  }
}

/** nori priority (higher first, 0..255) → kombu wire priority (0 first, 0..9). */
export function toWirePriority(priority: number): number {
  return 9 - Math.max(0, Math.min(9, Math.trunc(priority)));
}

/** kombu wire priority → nori priority. The same map both ways: 0 ↔ 9. */
export const fromWirePriority = toWirePriority;

/** A binding set member: `routing_key SEP pattern SEP queue`. Headers-exchange arguments ride in the pattern slot as JSON (kombu has no headers exchanges on Redis, so it never reads them). */
export function bindingMember(routingKey: string, pattern: string, queue: string): string {
  return `${routingKey}${SEP}${pattern}${SEP}${queue}`;
}

export function parseBindingMember(member: string): { routingKey: string; pattern: string; queue: string } {
  const [routingKey = '', pattern = '', queue = ''] = member.split(SEP);
  return { routingKey, pattern, queue };
}
