/**
 * This test file's own remote-control namespace and event exchange. Celery's defaults
 * (celery.pidbox, reply.celery.pidbox, celeryev) are shared by every app on a broker: a test
 * cannot delete them without cutting off the workers of other files running at the same time;
 * these it can. testbed Apps use them, and Python peers get them as NORI_CONTROL_EXCHANGE and
 * NORI_EVENT_EXCHANGE (interop_app.py, event_dump.py).
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from '@nori/core';

const id = randomUUID().slice(0, 8);

/** Celery's `control_exchange`: the mailbox is `<it>.pidbox`, replies `reply.<it>.pidbox`. */
export const CONTROL_EXCHANGE = `nori-test-${id}`;
/** Celery's `event_exchange`. */
export const EVENT_EXCHANGE = `nori-test-${id}.ev`;

export const CELERY_NAMES = { controlExchange: CONTROL_EXCHANGE, eventExchange: EVENT_EXCHANGE };
export const CELERY_NAMES_ENV = { NORI_CONTROL_EXCHANGE: CONTROL_EXCHANGE, NORI_EVENT_EXCHANGE: EVENT_EXCHANGE };

/** Deletes the mailbox and event exchanges, with their bindings (on Redis, kombu's binding sets too). */
export async function deleteCeleryNames(conn: Connection): Promise<void> {
  for (const name of [`${CONTROL_EXCHANGE}.pidbox`, `reply.${CONTROL_EXCHANGE}.pidbox`, EVENT_EXCHANGE]) await conn.deleteExchange(name).catch(() => undefined);
}
