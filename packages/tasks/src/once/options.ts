/** Once-locks' settings: per task (`once`) and per App. */
export interface OnceOptions {
  /** The lock key from the call; default every argument (celery_once's `keys` restricts them). */
  key?: (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => unknown;
  /** Lock lifetime, ms. Default `onceDefaultTimeout` (celery_once's 1 h). */
  timeout?: number;
  /** Return the holder's result instead of throwing AlreadyQueued. */
  graceful?: boolean;
  /** Release when the task starts instead of when it ends (celery_once's unlock_before_run). */
  unlockBefore?: boolean;
}

export interface OnceSettings {
  /** Where once-locks live: a redis:// URL. Default the result backend's, else the broker's, when Redis. */
  onceBackend?: string;
  /** Default lock lifetime, ms. Default 3 600 000. */
  onceDefaultTimeout?: number;
}
