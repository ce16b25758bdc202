/**
 * Plain descriptions of exchanges, queues and bindings: what `Exchange` and `Queue` hand to a
 * transport. Transports read these and never the entity classes.
 */

export type ExchangeType = 'direct' | 'topic' | 'fanout' | 'headers';

/** AMQP-style argument table (`x-match`, `x-dead-letter-exchange`, ...). */
export type Arguments = Record<string, unknown>;

export interface ExchangeSpec {
  /** '' is the default (nameless) exchange: routing key = queue name. */
  readonly name: string;
  readonly type: ExchangeType;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Arguments;
}

export interface BindingSpec {
  readonly exchange: string;
  readonly routingKey: string;
  /** For headers exchanges: the headers to match plus `x-match` ('all' | 'any'). */
  readonly arguments: Arguments;
}

/** What a publish to a full queue does: drop the oldest ready message, or refuse the new one (`QueueFullError`). */
export type QueueOverflow = 'drop-head' | 'reject-publish';

export interface QueueSpec {
  readonly name: string;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  /** Delete the queue after it has been unused for this many ms (AMQP `x-expires`). */
  readonly expires?: number;
  /** Messages older than this many ms are discarded (or dead-lettered) (`x-message-ttl`). */
  readonly messageTtl?: number;
  /** At most this many ready messages (`x-max-length`); `overflow` says what a publish beyond it does. */
  readonly maxLength?: number;
  /** RabbitMQ's `x-overflow`; the default `drop-head` drops (and dead-letters) the oldest. */
  readonly overflow?: QueueOverflow;
  /** Enables priorities 0..maxPriority, higher first (`x-max-priority`). */
  readonly maxPriority?: number;
  /** Where rejected and expired messages go. */
  readonly deadLetterExchange?: string;
  readonly deadLetterRoutingKey?: string;
  /** Extra arguments passed through to brokers that have them (`x-queue-type`, ...). */
  readonly arguments: Arguments;
  readonly bindings: readonly BindingSpec[];
}
