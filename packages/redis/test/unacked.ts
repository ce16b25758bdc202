/** What Redis still holds in flight for a queue: kombu's `unacked` entries end in the queue's name. */
import { Redis } from 'ioredis';
import { redisUrl } from '@nori/testing/brokers';

export async function unackedOf(queue: string): Promise<number> {
  const redis = new Redis(redisUrl());
  try {
    const tail = `${JSON.stringify(queue)}]`;
    return Object.values(await redis.hgetall('unacked')).filter((entry) => entry.endsWith(tail)).length;
  } finally {
    redis.disconnect();
  }
}
