/**
 * Log lines on stderr: Celery's format, `[time: LEVEL/pid] message`, or with `--log-format json`
 * one JSON object a line for log shippers, `{time, level, pid, message, ...fields}` (fields such
 * as the task's name and id, which the text line spells inside its message).
 */
import { UsageError } from './errors.js';

export const LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Level = (typeof LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The global options every command may be given (`nori -l debug ...`, or after the command). */
export interface LogOptions {
  loglevel?: Level;
  logFormat?: LogFormat;
}

export type LogFields = Readonly<Record<string, unknown>>;

export class Log {
  readonly #min: number;
  readonly #format: LogFormat;

  constructor(level: Level, format: LogFormat = 'text') {
    this.#min = LEVELS.indexOf(level);
    this.#format = format;
  }

  /** A command's log: its -l, else the command's own default level. */
  static of(o: LogOptions, fallback: Level): Log {
    return new Log(o.loglevel ?? fallback, o.logFormat);
  }

  get json(): boolean {
    return this.#format === 'json';
  }

  enabled(level: Level): boolean {
    return LEVELS.indexOf(level) >= this.#min;
  }

  /** `always`: whatever the level (a worker's banner, which Celery prints at any level). */
  write(level: Level, message: string, fields: LogFields = {}, always = false): void {
    if (!always && !this.enabled(level)) return;
    const time = new Date().toISOString();
    process.stderr.write(
      this.json
        ? `${JSON.stringify({ time, level, pid: process.pid, message, ...fields })}\n`
        : `[${time}: ${level.toUpperCase()}/${process.pid}] ${message}\n`,
    );
  }

  debug(m: string, fields?: LogFields): void {
    this.write('debug', m, fields);
  }
  info(m: string, fields?: LogFields): void {
    this.write('info', m, fields);
  }
  warn(m: string, fields?: LogFields): void {
    this.write('warning', m, fields);
  }
  error(m: string, fields?: LogFields): void {
    this.write('error', m, fields);
  }

  /** An operational error (a broker gone, a refused command): its message; the stack only at debug. */
  failure(error: unknown, fields?: LogFields): void {
    const e = error instanceof Error ? error : new Error(String(error));
    this.error(this.enabled('debug') ? (e.stack ?? e.message) : e.message, fields);
  }
}

export function parseLevel(value: string): Level {
  const v = value.toLowerCase() === 'warn' ? 'warning' : value.toLowerCase();
  if (!(LEVELS as readonly string[]).includes(v)) throw new UsageError(`-l must be one of ${LEVELS.join(', ')}, got "${value}"`);
  return v as Level;
}

export function parseLogFormat(value: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(value)) throw new UsageError(`--log-format must be text or json, got "${value}"`);
  return value as LogFormat;
}
