/** The real brokers the events / control / canvas tests run on, and a poll-until helper for them. */
import '@nori/redis';
import '@nori/amqp';
import { AMQP_URL, redisUrl } from '@nori/testing/brokers';

export const REDIS = redisUrl();
export const AMQP = AMQP_URL;
export const NETWORK_BROKERS = [
  { name: 'redis', broker: REDIS },
  { name: 'amqp', broker: AMQP },
] as const;
export const ALL_BROKERS = [{ name: 'memory', broker: 'memory://' }, ...NETWORK_BROKERS] as const;

/** Polls `ok` every 50 ms; rejects naming `what` after `timeout` ms. */
export async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeout = 30_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
