import { describe, expect, it } from 'vitest';
import { Connection, InvalidArgumentError } from '@nori/core';
import '@nori/mongodb';
import { deadMongoUrl } from './server.js';

describe('MongoDB transport options', () => {
  it.each([
    [{ pollMinMs: 'abc' }, /pollMinMs/],
    [{ pollMaxMs: -5 }, /pollMaxMs/],
    [{ pollMinMs: 500, pollMaxMs: 100 }, /below pollMinMs/],
    [{ collectionPrefix: '' }, /collectionPrefix/],
  ])('%o is refused with InvalidArgumentError at connect, no NaN let through', async (transportOptions, reason) => {
    const conn = new Connection(deadMongoUrl, { transportOptions });
    try {
      const error = await conn.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(reason);
    } finally {
      await conn.close();
    }
  });
});
