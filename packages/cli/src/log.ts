import { UsageError } from './errors.js';
/** The worker's log lines on stderr, Celery's format: `[time: LEVEL/pid] message`. */
export const LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

export class Log {
  readonly #min: number;
  constructor(level: Level) {
    this.#min = LEVELS.indexOf(level);
  }
  write(level: Level, message: string): void {
    if (LEVELS.indexOf(level) < this.#min) return;
    process.stderr.write(`[${new Date().toISOString()}: ${level.toUpperCase()}/${process.pid}] ${message}\n`);
  }
  debug(m: string): void {
    this.write('debug', m);
  }
  info(m: string): void {
    this.write('info', m);
  }
  warn(m: string): void {
    this.write('warning', m);
  }
  error(m: string): void {
    this.write('error', m);
  }
}

export function parseLevel(value: string): Level {
  const v = value.toLowerCase() === 'warn' ? 'warning' : value.toLowerCase();
  if (!(LEVELS as readonly string[]).includes(v)) throw new UsageError(`-l must be one of ${LEVELS.join(', ')}, got "${value}"`);
  return v as Level;
}
