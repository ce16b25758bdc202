/** What scripts can rely on (sysexits-style, as Celery's command uses them). */
export const EXIT = {
  OK: 0,
  /** The command ran and failed: a task failed, a broker refused, a timeout passed. */
  FAILURE: 1,
  /** Bad arguments or options. */
  USAGE: 2,
  /** No worker replied (Celery's EX_UNAVAILABLE). */
  UNAVAILABLE: 69,
} as const;
