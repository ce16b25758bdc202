import { InvalidArgumentError } from './errors.js';
import type { Arguments, ExchangeSpec, ExchangeType } from './topology.js';

export interface ExchangeOptions {
  type?: ExchangeType;
  durable?: boolean;
  autoDelete?: boolean;
  arguments?: Arguments;
}

const TYPES: readonly ExchangeType[] = ['direct', 'topic', 'fanout', 'headers'];

/** A named routing point. `Exchange.default` ('') routes by queue name. */
export class Exchange {
  static readonly default = new Exchange('', { type: 'direct' });

  readonly type: ExchangeType;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Arguments;

  constructor(
    readonly name: string,
    options: ExchangeOptions = {},
  ) {
    this.type = options.type ?? 'direct';
    if (!TYPES.includes(this.type)) {
      throw new InvalidArgumentError(`exchange "${name}": unknown type "${String(this.type)}" (use ${TYPES.join(', ')})`);
    }
    this.durable = options.durable ?? true;
    this.autoDelete = options.autoDelete ?? false;
    this.arguments = options.arguments ?? {};
  }

  spec(): ExchangeSpec {
    return { name: this.name, type: this.type, durable: this.durable, autoDelete: this.autoDelete, arguments: this.arguments };
  }
}
