/**
 * Every error nori throws, one class per reason. Each has a stable `code` so callers can
 * branch without matching messages, and a message that says what failed and what to do.
 */

export type NoriErrorCode =
  | 'ERR_NORI_URL'
  | 'ERR_NORI_UNKNOWN_SCHEME'
  | 'ERR_NORI_TRANSPORT_NOT_INSTALLED'
  | 'ERR_NORI_CONNECTION'
  | 'ERR_NORI_CONNECTION_CLOSED'
  | 'ERR_NORI_TIMEOUT'
  | 'ERR_NORI_QUEUE_EMPTY'
  | 'ERR_NORI_MESSAGE_STATE'
  | 'ERR_NORI_SERIALIZER_NOT_INSTALLED'
  | 'ERR_NORI_COMPRESSOR_NOT_INSTALLED'
  | 'ERR_NORI_ENCODE'
  | 'ERR_NORI_DECODE'
  | 'ERR_NORI_CONTENT_DISALLOWED'
  | 'ERR_NORI_MESSAGE_TOO_LARGE'
  | 'ERR_NORI_UNSUPPORTED'
  | 'ERR_NORI_NOT_FOUND'
  | 'ERR_NORI_PUBLISH_NACKED'
  | 'ERR_NORI_QUEUE_FULL'
  | 'ERR_NORI_PUBLISH_BUFFER_FULL'
  | 'ERR_NORI_INVALID_ARGUMENT'
  | 'ERR_NORI_SCHEMA'
  | 'ERR_NORI_ABORTED'
  | 'ERR_NORI_AUTHENTICATION'
  | 'ERR_NORI_CONSUMER_CANCELLED'
  | 'ERR_NORI_BROKER_BLOCKED'
  | 'ERR_NORI_BROKER_REFUSED'
  | 'ERR_NORI_LEASE_LOST'
  | 'ERR_NORI_REDELIVERY_LIMIT'
  | 'ERR_NORI_SIGNATURE';

/** Packages with errors of their own (e.g. @nori/tasks) extend it with their own code union. */
export abstract class NoriError<Code extends string = NoriErrorCode> extends Error {
  abstract readonly code: Code;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A broker URL that cannot be parsed. The message never contains the password. */
export class UrlError extends NoriError {
  readonly code = 'ERR_NORI_URL';
}

/** A URL whose scheme no transport is registered for. */
export class UnknownSchemeError extends NoriError {
  readonly code = 'ERR_NORI_UNKNOWN_SCHEME';
  constructor(
    readonly scheme: string,
    readonly known: readonly string[],
  ) {
    super(`no transport for scheme "${scheme}://"; known schemes: ${known.map((s) => `${s}://`).join(', ')}`);
  }
}

/** The transport for a scheme lives in a package that is not installed. */
export class TransportNotInstalledError extends NoriError {
  readonly code = 'ERR_NORI_TRANSPORT_NOT_INSTALLED';
  constructor(
    readonly scheme: string,
    readonly packageName: string,
    options?: { cause?: unknown },
  ) {
    super(`the ${scheme}:// transport is not installed: run \`npm install ${packageName}\``, options);
  }
}

/** Connecting to (or talking to) the broker failed. */
export class ConnectionError extends NoriError {
  readonly code = 'ERR_NORI_CONNECTION';
}

/** An operation was attempted on a connection, producer or consumer that was closed. */
export class ConnectionClosedError extends NoriError {
  readonly code = 'ERR_NORI_CONNECTION_CLOSED';
}

/** A bounded wait ran out (connect, confirm, drain). */
export class TimeoutError extends NoriError {
  readonly code = 'ERR_NORI_TIMEOUT';
}

/** `SimpleQueue.get()` found nothing within its timeout (kombu's `Empty`). */
export class QueueEmptyError extends NoriError {
  readonly code = 'ERR_NORI_QUEUE_EMPTY';
  constructor(readonly queue: string) {
    super(`queue "${queue}" is empty`);
  }
}

/** A message was acked, rejected or requeued after it had already been settled. */
export class MessageStateError extends NoriError {
  readonly code = 'ERR_NORI_MESSAGE_STATE';
}

/** A serializer name or content type with no registered serializer. */
export class SerializerNotInstalledError extends NoriError {
  readonly code = 'ERR_NORI_SERIALIZER_NOT_INSTALLED';
}

/** A compression name or content type with no registered codec. */
export class CompressorNotInstalledError extends NoriError {
  readonly code = 'ERR_NORI_COMPRESSOR_NOT_INSTALLED';
}

/** A body that cannot be serialized (circular object, function, bigint in JSON, ...). */
export class EncodeError extends NoriError {
  readonly code = 'ERR_NORI_ENCODE';
}

/** A body that cannot be decoded: invalid JSON, corrupt compression, malformed envelope. */
export class DecodeError extends NoriError {
  readonly code = 'ERR_NORI_DECODE';
}

/** A message whose content type is not in the consumer's accept list. */
export class ContentDisallowedError extends NoriError {
  readonly code = 'ERR_NORI_CONTENT_DISALLOWED';
}

/** A body (or its decompressed form) over the configured maximum size. */
export class MessageTooLargeError extends NoriError {
  readonly code = 'ERR_NORI_MESSAGE_TOO_LARGE';
}

/** A feature the transport does not have (see its capabilities). Never a silent no-op. */
export class UnsupportedFeatureError extends NoriError {
  readonly code = 'ERR_NORI_UNSUPPORTED';
}

/** A queue or exchange that does not exist. */
export class NotFoundError extends NoriError {
  readonly code = 'ERR_NORI_NOT_FOUND';
}

/** The broker refused a confirmed publish (basic.nack). */
export class PublishNackedError extends NoriError {
  readonly code = 'ERR_NORI_PUBLISH_NACKED';
}

/** A publish to a queue declared `maxLength` with `overflow: 'reject-publish'` that was full: the message was not stored. */
export class QueueFullError extends NoriError {
  readonly code = 'ERR_NORI_QUEUE_FULL';
}

/** A publish during an outage found the bounded buffer full. */
export class PublishBufferFullError extends NoriError {
  readonly code = 'ERR_NORI_PUBLISH_BUFFER_FULL';
}

/** An option with a value that cannot work (negative prefetch, unknown exchange type, ...). */
export class InvalidArgumentError extends NoriError {
  readonly code = 'ERR_NORI_INVALID_ARGUMENT';
}

/** A decoded body that the consumer's Standard Schema refused; `issues` are the schema's own. */
export class SchemaValidationError extends NoriError {
  readonly code = 'ERR_NORI_SCHEMA';
  constructor(
    readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined }>,
    queue: string,
  ) {
    const shown = issues
      .slice(0, 5)
      .map((i) => (i.path?.length ? `${i.path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')}: ${i.message}` : i.message));
    super(`a message on queue "${queue}" failed schema validation: ${shown.join('; ')}${issues.length > 5 ? ` (+${issues.length - 5} more)` : ''}`);
  }
}

/** An operation stopped because its `AbortSignal` fired; `cause` is the signal's reason. Named `AbortError` as Node's are. */
export class AbortError extends NoriError {
  readonly code = 'ERR_NORI_ABORTED';
}

/**
 * The broker refused the credentials (or the user's access): retrying with the same ones cannot
 * help, so `ensureConnection` and the producer's retry stop at once.
 */
export class AuthenticationError extends NoriError {
  readonly code = 'ERR_NORI_AUTHENTICATION';
}

/** The broker cancelled a consumer (its queue was deleted, ...): nothing comes until it is back. */
export class ConsumerCancelledError extends NoriError {
  readonly code = 'ERR_NORI_CONSUMER_CANCELLED';
  constructor(
    readonly queue: string,
    message: string,
  ) {
    super(message);
  }
}

/** The broker is blocking publishes (RabbitMQ flow control: a memory or disk alarm). */
export class BrokerBlockedError extends NoriError {
  readonly code = 'ERR_NORI_BROKER_BLOCKED';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The broker answered a command with an error of its own (a key of the wrong type, out of memory,
 * a write error). The message carries the broker's reason; retrying does not help until an
 * operator acts, so it is not retried.
 */
export class BrokerRefusedError extends NoriError {
  readonly code = 'ERR_NORI_BROKER_REFUSED';
}

/**
 * A message was settled after its lease had lapsed and it was handed to another consumer: the
 * settle was ignored (the new owner settles it). Reported through `error` events.
 */
export class LeaseLostError extends NoriError {
  readonly code = 'ERR_NORI_LEASE_LOST';
}

/**
 * A message came back more often than the consumer's `maxLapses` after its lease lapsed (its
 * consumer died or was stuck while holding it): it is rejected (dead-lettered where the queue has
 * a dead-letter exchange) instead of handed to one more consumer it may take down too.
 */
export class RedeliveryLimitError extends NoriError {
  readonly code = 'ERR_NORI_REDELIVERY_LIMIT';
}

/**
 * A signed message (Celery's `auth` serializer) whose signature is missing, does not verify, or
 * comes from a signer not in the certificate store. Consumers refuse it like an undecodable body.
 */
export class SignatureError extends NoriError {
  readonly code = 'ERR_NORI_SIGNATURE';
}
