/**
 * `@nori/core`: the user API. What transport authors need (the Transport and Store contracts, the
 * virtual transport, envelope, routing, registration) is in `@nori/core/spi`.
 */
import './builtins.js';

export {
  Connection,
  type ConnectOptions,
  type ConnectionEvents,
  type ConnectionInfo,
  type ConnectionOptions,
  type EnsureConnectionOptions,
} from './connection.js';
export { Exchange, type ExchangeOptions } from './exchange.js';
export { Queue, type Binding, type QueueOptions } from './queue.js';
export { Producer, DEFAULT_PUBLISH_RETRY, type ProducerOptions, type PublishOptions } from './producer.js';
export { Consumer, DEFAULT_MAX_LAPSES, type ConsumerEvents, type ConsumerOptions, type MessageHandler } from './consumer.js';
export { ConsumeIterator } from './consume-iterator.js';
export { Message, type MessageState } from './message.js';
export { ATTEMPT_HEADER, type BackoffOptions, type ConsumerRetryPolicy } from './failure-policy.js';
export type { InferOutput, StandardSchemaIssue, StandardSchemaResult, StandardSchemaV1 } from './schema.js';
export { publishChannel, processChannel, type ProcessTraceContext, type PublishTraceContext, type TraceServer } from './tracing.js';
export { SimpleQueue, type GetOptions, type PutOptions as SimpleQueuePutOptions, type SimpleQueueOptions } from './simple-queue.js';
export { Emitter, type EventMap } from './emitter.js';
export {
  NoriError,
  type NoriErrorCode,
  UrlError,
  UnknownSchemeError,
  TransportNotInstalledError,
  ConnectionError,
  ConnectionClosedError,
  TimeoutError,
  QueueEmptyError,
  QueueFullError,
  MessageStateError,
  SerializerNotInstalledError,
  CompressorNotInstalledError,
  EncodeError,
  DecodeError,
  ContentDisallowedError,
  MessageTooLargeError,
  UnsupportedFeatureError,
  NotFoundError,
  PublishNackedError,
  PublishBufferFullError,
  InvalidArgumentError,
  SchemaValidationError,
  AbortError,
  AuthenticationError,
  ConsumerCancelledError,
  BrokerBlockedError,
  BrokerRefusedError,
  LeaseLostError,
  RedeliveryLimitError,
  SignatureError,
} from './errors.js';
export { maskUrl, parseUrl, parseUrls, type BrokerUrl, type HostPort } from './url.js';
export type { Arguments, ExchangeType, QueueOverflow } from './topology.js';
// Data shapes that appear in the user API's own signatures (message properties, events, status).
export type { DeliveryInfo, Headers, MessageProperties, OutgoingMessage, QueueStatus, ReturnedMessage, TransportCapabilities } from './spi/transport.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export {
  registerSerializer,
  unregisterSerializer,
  getSerializer,
  loadSerializer,
  findSerializer,
  contentTypeOf,
  registeredSerializers,
  type Serializer,
} from './serializer.js';
export {
  registerCompressor,
  findCompressor,
  getCompressor,
  loadCompressor,
  registeredCompressors,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type Compressor,
} from './compressor.js';
export { encodeBody, decodeBody, resolveAccept, DEFAULT_MAX_BODY_SIZE, type DecodeLimits, type EncodeOptions, type EncodedBody } from './payload.js';
export { retry, backoffDelay, type RetryPolicy } from './retry.js';
export { setLongTimeout, sleep, MAX_TIMER_MS, type LongTimeout } from './long-timer.js';
export { json, jsonPlain, createJsonSerializer, type JsonSerializerOptions } from './json.js';
export { raw, text } from './raw.js';
