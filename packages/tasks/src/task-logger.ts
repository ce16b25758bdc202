/**
 * Log lines about a task carry its id and name as fields, `task_id` and `task_name` (the names
 * Celery's task log records use), so a log shipper can follow a task. `withFields` adds fields to
 * every line of any logger with pino's method shape (pino itself, or `console`-like adapters).
 */
import type { Logger } from '@nori/core';
import type { TaskRequest } from './protocol/message.js';

export const taskFields = (request: Pick<TaskRequest, 'id' | 'name'>): { task_id: string; task_name: string } => ({
  task_id: request.id,
  task_name: request.name,
});

type Level = keyof Logger;

/** `logger` with `fields` on every line; an Error passed as the object goes under `err`, as pino puts it. */
export function withFields(logger: Logger, fields: Readonly<Record<string, unknown>>): Logger {
  const level =
    (name: Level) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') logger[name]({ ...fields }, obj);
      else logger[name](obj instanceof Error ? { ...fields, err: obj } : { ...fields, ...obj }, msg);
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}
