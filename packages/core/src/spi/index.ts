/**
 * `@nori/core/spi`: the transport kit. A transport package imports from here and from the user API
 * (`@nori/core`) only. AMQP implements `Transport` natively; Redis, MongoDB and memory implement the
 * smaller `Store` and get a `Transport` from `virtualTransport`.
 */
import '../builtins.js';

export type {
  ConsumeOptions,
  Delivery,
  DeliveryInfo,
  Headers,
  MessageProperties,
  OutgoingMessage,
  PublishTarget,
  QueueStatus,
  ReturnedMessage,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportEventName,
  TransportEvents,
  TransportFactory,
  TransportOptions,
} from './transport.js';
export type {
  Claimed,
  FanoutChannel,
  PutOptions,
  PutReport,
  RestorePosition,
  Store,
  StoreCapabilities,
  StoreFactory,
  StoreModule,
  StoredBinding,
  Unreadable,
} from './store.js';
export type { Arguments, BindingSpec, ExchangeSpec, ExchangeType, QueueSpec } from '../topology.js';
export {
  MAX_HEADER_DEPTH,
  assertStorableHeaders,
  envelopeBody,
  envelopeProperties,
  parseEnvelope,
  toEnvelope,
  type Envelope,
  type EnvelopeDeliveryInfo,
  type EnvelopeProperties,
} from './envelope.js';
// The one abortable wait of every retry and reconnect loop (any length: see long-timer.ts).
export { sleep as delay } from '../long-timer.js';
export { dial, type Dialed } from './dial.js';
export { numberOption } from './options.js';
export { assertBodySize } from '../payload.js';
export {
  MESSAGE_PROPERTIES,
  readProperties,
  writeProperties,
  type MessagePropertyName,
  type PropertyDialect,
  type PropertyKind,
} from './message-properties.js';
export { registerTransport, registerTransportPackage } from './transports.js';
export { topicMatches, headersMatch, route } from './routing.js';
export { virtualTransport, virtualOptions, VirtualTransport, DEFAULT_MAX_BLOCKED_MS, type VirtualTransportOptions } from './virtual/virtual-transport.js';
// Worker threads load built JavaScript: the lease keeper's thread, and any other a package starts.
export { builtModule } from './built-module.js';
// Batches what one event-loop tick produced into one store call (stores and result backends use it).
export { TickBatcher } from './virtual/tick-batcher.js';
export { MemoryStore, createMemoryStore } from './memory/memory-store.js';
// For codec packages: node:zlib decompression under the output cap, with nori's errors.
export { nodeDecompress } from '../zlib-codec.js';
