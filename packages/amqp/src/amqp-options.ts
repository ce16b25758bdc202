/**
 * URL + transport options → amqplib's connect options, kombu's rules: `pyamqp://` is `amqp://`,
 * the virtual host is the path (`//` is '/', no path is the default '/'), guest/guest by default.
 */
import type { Options, SocketOptions } from 'amqplib';
import { DEFAULT_MAX_BODY_SIZE, type BrokerUrl, type RetryPolicy } from '@nori/core';
import { numberOption, type TransportOptions } from '@nori/core/spi';
import { DEFAULT_LEVEL_IDLE_MS } from './delay-levels.js';

export interface AmqpSettings {
  /** Per-publish confirm timeout, ms. */
  readonly publishTimeout: number;
  /** Publishes held while disconnected before `publish()` fails with PublishBufferFullError. */
  readonly maxBufferedPublishes: number;
  readonly reconnect: RetryPolicy;
  /** How long a delay level outlives its last delayed publish, beyond its TTL (`delay-levels.ts`), ms. */
  readonly delayLevelIdleMs: number;
  /** Largest body a publish sends, in bytes (RabbitMQ's own `max_message_size` by default). */
  readonly maxBodySize: number;
}

/** One value through the kit's option reader (URL query values and transport options alike). */
const num = (value: unknown, what: string, fallback: number): number => numberOption({ [what]: value }, what, fallback);

/** The heartbeat timeout asked for, in seconds (0: none): the Connection option, else the URL's, else 60. */
export function heartbeatOf(url: BrokerUrl, options: TransportOptions): number {
  return options.heartbeat ?? num(url.query['heartbeat'], 'heartbeat', 60);
}

export function connectOptions(url: BrokerUrl, options: TransportOptions): { connect: Options.Connect; socket: SocketOptions } {
  const tls = url.scheme === 'amqps';
  const o = options.transportOptions;
  const heartbeat = heartbeatOf(url, options);
  return {
    connect: {
      protocol: tls ? 'amqps' : 'amqp',
      hostname: url.hostname ?? '127.0.0.1',
      port: url.port ?? (tls ? 5671 : 5672),
      username: url.username ?? 'guest',
      password: url.password ?? 'guest',
      vhost: url.virtualHost ?? '/',
      heartbeat,
      ...(url.query['frame_max'] !== undefined && { frameMax: num(url.query['frame_max'], 'frame_max', 0) }),
    },
    socket: {
      timeout: options.connectTimeout,
      noDelay: true,
      ...(tls && (o['tls'] as object | undefined)),
      clientProperties: { connection_name: options.connectionName ?? `nori ${process.pid}`, product: 'nori' },
    },
  };
}

export function amqpSettings(options: TransportOptions): AmqpSettings {
  const o = options.transportOptions;
  return {
    publishTimeout: num(o['publishTimeout'], 'publishTimeout', 30_000),
    maxBufferedPublishes: num(o['maxBufferedPublishes'], 'maxBufferedPublishes', 10_000),
    reconnect: {
      intervalStart: num(o['reconnectIntervalStart'], 'reconnectIntervalStart', 100),
      intervalStep: num(o['reconnectIntervalStep'], 'reconnectIntervalStep', 500),
      intervalMax: num(o['reconnectIntervalMax'], 'reconnectIntervalMax', 5_000),
      ...(o['reconnectMaxRetries'] !== undefined && { maxRetries: num(o['reconnectMaxRetries'], 'reconnectMaxRetries', 0) }),
    },
    delayLevelIdleMs: numberOption(o, ['delayLevelIdleMs', 'delay_level_idle_ms'], DEFAULT_LEVEL_IDLE_MS),
    maxBodySize: numberOption(o, 'maxBodySize', DEFAULT_MAX_BODY_SIZE, 1),
  };
}
