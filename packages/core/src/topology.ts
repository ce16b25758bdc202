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

export interface QueueSpec {
  readonly name: string;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  /** Delete the queue after it has been unused for this many ms (AMQP `x-expires`). */
  readonly expires?: number;
  /** Messages older than this many ms are discarded (or dead-lettered) (`x-message-ttl`). */
  readonly messageTtl?: number;
  /** Ready messages beyond this count are dropped from the head (`x-max-length`). */
  readonly maxLength?: number;
  /** Enables priorities 0..maxPriority, higher first (`x-max-priority`). */
  readonly maxPriority?: number;
  /** Where rejected and expired messages go. */
  readonly deadLetterExchange?: string;
  readonly deadLetterRoutingKey?: string;
  /** Extra arguments passed through to brokers that have them (`x-queue-type`, ...). */
  readonly arguments: Arguments;
  readonly bindings: readonly BindingSpec[];
}
