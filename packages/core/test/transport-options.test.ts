import { describe, expect, it } from 'vitest';
import { Connection, InvalidArgumentError } from '@nori/core';
import { numberOption } from '@nori/core/spi';

describe('transport options (the kit reader)', () => {
  it.each([{ leaseMs: 'soon' }, { leaseMs: Number.NaN }, { waitMs: 0 }, { restoreIntervalMs: -1 }])(
    '%o is refused at connect with InvalidArgumentError naming the option, not replaced by a default',
    async (transportOptions) => {
      const conn = new Connection('memory://', { transportOptions });
      try {
        const error = await conn.connect().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message).toContain(Object.keys(transportOptions)[0]);
      } finally {
        await conn.close();
      }
    },
  );

  it("reads kombu's snake_case name beside nori's camelCase one, and numeric strings", () => {
    expect(numberOption({ visibility_timeout: '30' }, ['visibilityTimeout', 'visibility_timeout'], 5)).toBe(30);
    expect(numberOption({ visibilityTimeout: 7 }, ['visibilityTimeout', 'visibility_timeout'], 5)).toBe(7);
    expect(numberOption({}, ['visibilityTimeout', 'visibility_timeout'], 5)).toBe(5);
    expect(() => numberOption({ visibility_timeout: '' }, ['visibilityTimeout', 'visibility_timeout'], 5)).toThrow(/visibility_timeout/);
  });
});
