/**
 * A message in a dead-letter queue: what `nori dlq ls` shows of it, read from the `x-death` entry
 * the broker wrote when it dead-lettered it (RabbitMQ natively; nori's virtual transport writes the
 * same entry on Redis, MongoDB and memory), and the message `nori dlq replay` sends back.
 */
import { createHash } from 'node:crypto';
import { ATTEMPT_HEADER } from '@nori/core';
import type { Delivery, Headers, OutgoingMessage } from '@nori/core/spi';
import { fromSeconds } from '@nori/tasks/protocol';

export interface DeadLetter {
  /** The task id, else the message id or correlation id, else `sha1:` and the body's hash (12 hex digits). */
  id: string;
  /** The Celery task name (protocol 2's `task` header), for a task message. */
  task: string | null;
  /** The queue it was dead-lettered from: where `replay` sends it. */
  queue: string | null;
  /** The exchange and routing key it had reached that queue with. */
  exchange: string | null;
  routingKey: string | null;
  /** Why, as RabbitMQ says it: rejected, expired, maxlen, delivery_limit. */
  reason: string | null;
  /** Runs of its handler when it was given up: a consumer's retry count (x-nori-attempt), else Celery's retries + 1. */
  attempts: number | null;
  /** When it was dead-lettered. */
  deadLetteredAt: Date | null;
  /** The failure its task's stored result holds (only with a result backend). */
  error: string | null;
}

interface Death {
  queue?: unknown;
  reason?: unknown;
  exchange?: unknown;
  'routing-keys'?: unknown;
  time?: unknown;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** x-death's time: seconds since the epoch, a number or amqplib's `{ '!': 'timestamp', value }`. */
function deathTime(time: unknown): Date | null {
  const seconds = typeof time === 'object' && time !== null ? (time as { value?: unknown }).value : time;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(fromSeconds(seconds)) : null;
}

function attemptsOf(headers: Headers): number | null {
  const attempt = headers[ATTEMPT_HEADER];
  if (typeof attempt === 'number') return attempt;
  return typeof headers['retries'] === 'number' ? headers['retries'] + 1 : null;
}

export function deadLetterOf(d: Delivery): DeadLetter {
  const deaths = d.headers['x-death'];
  // The newest entry comes first (RabbitMQ prepends, or moves a repeated queue and reason to the front).
  const death: Death = Array.isArray(deaths) && typeof deaths[0] === 'object' && deaths[0] !== null ? (deaths[0] as Death) : {};
  const keys = death['routing-keys'];
  const id =
    str(d.headers['id']) ?? d.properties.messageId ?? d.properties.correlationId ?? `sha1:${createHash('sha1').update(d.body).digest('hex').slice(0, 12)}`;
  return {
    id,
    task: str(d.headers['task']),
    queue: str(death.queue),
    exchange: str(death.exchange),
    routingKey: Array.isArray(keys) ? str(keys[0]) : null,
    reason: str(death.reason),
    attempts: attemptsOf(d.headers),
    deadLetteredAt: deathTime(death.time),
    error: null,
  };
}

/** Headers of a past life: the dead-lettering record and the attempt count. */
const isHistory = (name: string): boolean =>
  name === 'x-death' || name.startsWith('x-first-death-') || name.startsWith('x-last-death-') || name === ATTEMPT_HEADER;

/**
 * The message as replay publishes it: the same body and properties, its attempt count reset
 * (x-nori-attempt gone, Celery's retries 0) and its x-death record dropped. Kept, a record of an
 * expiry from that queue makes RabbitMQ see a dead-letter cycle when the message next expires back
 * into it (a consumer's retry does, through its delay level) and drop it without a word (seen on
 * RabbitMQ 3.10).
 */
export function replayMessage(d: Delivery): OutgoingMessage {
  const headers: Headers = Object.fromEntries(Object.entries(d.headers).filter(([name]) => !isHistory(name)));
  if (typeof headers['retries'] === 'number') headers['retries'] = 0;
  return {
    body: d.body,
    contentType: d.contentType ?? 'application/data',
    contentEncoding: d.contentEncoding ?? 'binary',
    headers,
    properties: d.properties,
  };
}
