/**
 * A claimed message as a virtual transport hands it up. One object per message with its settle
 * methods on the prototype (not four closures per message: this is built for every delivery), and
 * the settling itself left to the transport, which owns the in-flight set and the store.
 */
import { envelopeBody, envelopeProperties } from '../envelope.js';
import type { Claimed } from '../store.js';
import type { Delivery, DeliveryInfo, Headers, MessageProperties } from '../transport.js';

export type SettleAction = 'ack' | 'reject' | 'requeue' | 'release';

/** What a delivery needs from its transport. */
export interface DeliveryHost {
  /** Settle a claim in the store (never called for a noAck delivery). */
  settle(action: SettleAction, claimed: Claimed): Promise<void>;
  /** Whether a claim made at `claimedAt` (epoch ms) had its lease given up (see LeaseKeeper). */
  lost(claimedAt: number): boolean;
}

const SETTLED: Promise<void> = Promise.resolve();

export class VirtualDelivery implements Delivery {
  readonly queue: string;
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly headers: Headers;
  readonly properties: MessageProperties;
  readonly deliveryInfo: DeliveryInfo;
  #settled = false;

  /** Throws (`DecodeError`) when the envelope has a body or property nori cannot read. */
  constructor(
    private readonly host: DeliveryHost,
    private readonly claimed: Claimed,
    private readonly noAck: boolean,
    consumerTag: string,
    private readonly onSettled: () => void,
    private readonly claimedAt: number,
  ) {
    const { envelope } = claimed;
    const info = envelope.properties.delivery_info;
    this.queue = claimed.queue;
    this.body = envelopeBody(envelope);
    this.contentType = envelope['content-type'];
    this.contentEncoding = envelope['content-encoding'];
    this.headers = envelope.headers;
    this.properties = envelopeProperties(envelope);
    const deliveryInfo: { -readonly [K in keyof DeliveryInfo]: DeliveryInfo[K] } = {
      exchange: info.exchange,
      routingKey: info.routing_key,
      consumerTag,
      deliveryTag: claimed.tag,
      redelivered: info.redelivered === true,
    };
    if (claimed.deliveryCount !== undefined) deliveryInfo.deliveryCount = claimed.deliveryCount;
    if (claimed.lapses !== undefined) deliveryInfo.lapses = claimed.lapses;
    this.deliveryInfo = deliveryInfo;
  }

  get lost(): boolean {
    return !this.noAck && !this.#settled && this.host.lost(this.claimedAt);
  }

  ack(): Promise<void> {
    return this.#settle('ack');
  }
  reject(): Promise<void> {
    return this.#settle('reject');
  }
  requeue(): Promise<void> {
    return this.#settle('requeue');
  }
  release(): Promise<void> {
    return this.#settle('release');
  }

  /** The first settle counts (a second is a no-op); a noAck delivery only frees its prefetch slot. */
  #settle(action: SettleAction): Promise<void> {
    if (this.#settled) return SETTLED;
    this.#settled = true;
    this.onSettled();
    return this.noAck ? SETTLED : this.host.settle(action, this.claimed);
  }
}
