import { afterEach, describe, expect, it, vi } from 'vitest';
import { Connection, MAX_TIMER_MS, setLongTimeout, sleep } from '@nori/core';

const DAY = 86_400_000;

describe('long timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a 25-day timeout does not fire after 1 ms (Node clamps plain timers) but at its deadline', () => {
    vi.useFakeTimers();
    const fired: number[] = [];
    const start = Date.now();
    setLongTimeout(() => fired.push(Date.now() - start), 25 * DAY);
    vi.advanceTimersByTime(10);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(25 * DAY - MAX_TIMER_MS - 11);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([25 * DAY]);
    vi.advanceTimersByTime(100 * DAY);
    expect(fired).toHaveLength(1);
  });

  it('clear() stops a long timeout in any of its segments', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = setLongTimeout(fn, 4000 * DAY);
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    t.clear();
    vi.advanceTimersByTime(5000 * DAY);
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sleep rejects with the abort reason and leaves no timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const waiting = sleep(30 * DAY, controller.signal);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a memory simpleQueue get with a 25-day timeout waits instead of timing out at once', async () => {
    await using conn = new Connection('memory://');
    const queue = conn.simpleQueue(`long-timeout-${Date.now()}`);
    const got = queue.get({ timeout: 25 * DAY });
    const early = await Promise.race([
      got.then(
        () => 'settled',
        () => 'settled',
      ),
      sleep(50).then(() => 'waiting'),
    ]);
    expect(early).toBe('waiting');
    await queue.put({ n: 1 });
    const message = await got;
    expect(message.body).toEqual({ n: 1 });
    await message.ack();
    await queue.close();
  });
});
