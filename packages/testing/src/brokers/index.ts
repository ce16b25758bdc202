/**
 * The shared brokers tests and benchmarks talk to: REDIS_URL (without a database number) and AMQP_URL
 * when set, else the local defaults. Python peers get these URLs passed by the TypeScript side.
 */
const redisBase = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** The shared Redis at database `db`. */
export function redisUrl(db = 0): string {
  const url = new URL(redisBase);
  url.pathname = `/${db}`;
  return url.toString();
}

/** The shared RabbitMQ, default virtual host. */
export const AMQP_URL = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672//';

/** AMQP_URL's virtual host, for `rabbitmqctl -p` (`/` when the URL names none). */
export const AMQP_VHOST = decodeURIComponent(new URL(AMQP_URL).pathname.slice(1)) || '/';

/**
 * Transport options for the tests' nori connections to RabbitMQ (other transports ignore them):
 * a delay level goes 2 s after its last delayed publish instead of 5 minutes, so a run leaves
 * none behind.
 */
export const AMQP_TRANSPORT_OPTIONS = { delayLevelIdleMs: 2000 };
