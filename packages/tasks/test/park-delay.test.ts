import { expect, it } from 'vitest';
import { parkDelay } from '../src/worker/admission/park-delay.js';

it('parks for the exact wait with a delayed set, else for the largest two-digit level not past it', () => {
  expect(parkDelay(3_650_123, true)).toBe(3_650_123);
  expect(parkDelay(3_650_123, false)).toBe(3_600_000);
  expect(parkDelay(7_777, false)).toBe(7_700);
  expect(parkDelay(1_999, false)).toBe(1_900);
  expect(parkDelay(42, false)).toBe(42);
  for (const wait of [1001, 12_345, 99_999, 86_400_001]) expect(parkDelay(wait, false)).toBeLessThanOrEqual(wait);
});
