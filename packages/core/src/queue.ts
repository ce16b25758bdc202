import { Exchange } from './exchange.js';
import { InvalidArgumentError } from './errors.js';
import type { Arguments, BindingSpec, QueueOverflow, QueueSpec } from './topology.js';

/** One binding of a queue to an exchange (kombu's `binding`). */
export interface Binding {
  exchange: Exchange;
  routingKey?: string;
  /** Headers to match for headers exchanges, plus `x-match`. */
  arguments?: Arguments;
}

export interface QueueOptions {
  /** Shorthand for a single binding; `routingKey` defaults to the queue name. */
  exchange?: Exchange | string;
  routingKey?: string;
  bindingArguments?: Arguments;
  /** Several bindings (kombu's `bindings=[binding(...), ...]`). */
  bindings?: readonly Binding[];
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  /** Delete after this many ms unused. */
  expires?: number;
  /** Per-queue message TTL in ms. */
  messageTtl?: number;
  maxLength?: number;
  /** What a publish beyond `maxLength` does: 'drop-head' (default) or 'reject-publish' (`QueueFullError`). */
  overflow?: QueueOverflow;
  /** Highest priority the queue orders by (higher first). */
  maxPriority?: number;
  deadLetterExchange?: string;
  deadLetterRoutingKey?: string;
  queueArguments?: Arguments;
}

function positive(name: string, field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError(`queue "${name}": ${field} must be a non-negative number of ms/count, got ${value}`);
  return value;
}

/** A queue and its bindings. Without an exchange it is bound only to the default exchange. */
export class Queue {
  readonly bindings: readonly Binding[];
  readonly options: Readonly<QueueOptions>;

  constructor(
    readonly name: string,
    options: QueueOptions = {},
  ) {
    if (typeof name !== 'string') throw new InvalidArgumentError('queue name must be a string');
    positive(name, 'expires', options.expires);
    positive(name, 'messageTtl', options.messageTtl);
    positive(name, 'maxLength', options.maxLength);
    if (options.overflow !== undefined && options.overflow !== 'drop-head' && options.overflow !== 'reject-publish') {
      throw new InvalidArgumentError(`queue "${name}": overflow must be 'drop-head' or 'reject-publish', got ${String(options.overflow)}`);
    }
    const maxPriority = positive(name, 'maxPriority', options.maxPriority);
    if (maxPriority !== undefined && maxPriority > 255) throw new InvalidArgumentError(`queue "${name}": maxPriority must be at most 255`);
    this.options = options;
    const bindings: Binding[] = [...(options.bindings ?? [])];
    if (options.exchange !== undefined) {
      const exchange = typeof options.exchange === 'string' ? new Exchange(options.exchange) : options.exchange;
      bindings.unshift({ exchange, routingKey: options.routingKey ?? name, arguments: options.bindingArguments ?? {} });
    }
    this.bindings = bindings;
  }

  /** The exchanges this queue binds to (declared before the queue). */
  exchanges(): Exchange[] {
    return this.bindings.map((b) => b.exchange).filter((e) => e.name !== '');
  }

  spec(): QueueSpec {
    const o = this.options;
    const bindings: BindingSpec[] = this.bindings
      .filter((b) => b.exchange.name !== '')
      .map((b) => ({ exchange: b.exchange.name, routingKey: b.routingKey ?? this.name, arguments: b.arguments ?? {} }));
    return {
      name: this.name,
      durable: o.durable ?? true,
      exclusive: o.exclusive ?? false,
      autoDelete: o.autoDelete ?? false,
      ...(o.expires !== undefined && { expires: o.expires }),
      ...(o.messageTtl !== undefined && { messageTtl: o.messageTtl }),
      ...(o.maxLength !== undefined && { maxLength: o.maxLength }),
      ...(o.overflow !== undefined && { overflow: o.overflow }),
      ...(o.maxPriority !== undefined && { maxPriority: o.maxPriority }),
      ...(o.deadLetterExchange !== undefined && { deadLetterExchange: o.deadLetterExchange }),
      ...(o.deadLetterRoutingKey !== undefined && { deadLetterRoutingKey: o.deadLetterRoutingKey }),
      arguments: o.queueArguments ?? {},
      bindings,
    };
  }
}
