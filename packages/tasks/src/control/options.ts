/** Remote control's settings (Celery's names in camelCase, durations in ms). */

/** Celery's control settings, durations in ms. */
export interface ControlOptions {
  /** Mailbox namespace (Celery's `control_exchange`). Default 'celery'. */
  controlExchange?: string;
  /** Message TTL of node and reply queues (`control_queue_ttl`). Default 300 000. */
  controlQueueTtl?: number;
  /** Node and reply queues expire after this long unused (`control_queue_expires`). Default 10 000. */
  controlQueueExpires?: number;
}

export interface RemoteControlOptions extends ControlOptions {
  /** Workers answer remote control commands. Default true. */
  enableRemoteControl?: boolean;
}
