/**
 * The dashboard's dead-letter page (issue 27 item 3): tasks a consumer's retry gave up on lie in a
 * dead-letter queue on Redis, RabbitMQ and MongoDB; `nori flower` finds the queue (its first message
 * carries x-death), lists its messages without consuming them, replays one back to the queue it
 * came from, purges one and then all, through its routes; refuses a cross-origin or unauthenticated
 * replay. On Redis, the page in Debian's Chromium: the queue listed, a ticked message replayed with
 * its button (back in its queue, gone from the dead-letter queue), the rest purged after asking.
 * The server knows the dead-letter queue as its app's default queue (any queue it knows would do).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, Exchange, Queue } from '@nori/core';
import { App } from '@nori/tasks';
import { collect, TestNames } from '@nori/testing';
import { AMQP_TRANSPORT_OPTIONS } from '@nori/testing/brokers';
import { deleteCeleryNames } from '../../tasks/test/celery-names.js';
import { startServer, stopServer } from '../../mongodb/test/server.js';
import { APP, APP_NAMES_ENV, start, stopAll } from './bin.js';
import { CHROMIUM_ARGS } from './chromium.js';
import { DLQ_BROKERS, giveUp, type Letter } from './dead-letters.js';
import { apiAt, startFlower } from './flower-client.js';

const ARTIFACTS = fileURLToPath(new URL('artifacts/', import.meta.url));
beforeAll(startServer);
afterAll(async () => {
  await stopAll();
  await stopServer();
});

describe.each(DLQ_BROKERS)('the dead-letter page ($name)', ({ name, url, backend }) => {
  const names = new TestNames('cli-flower-dlq');
  const dlx = new Exchange(names.name('dlx'), { type: 'direct' });
  const work = new Queue(names.name('work'), { deadLetterExchange: dlx.name });
  const dlq = new Queue(names.name('dlq'), { exchange: dlx, routingKey: work.name });
  const conn = new Connection(url, { transportOptions: AMQP_TRANSPORT_OPTIONS });
  const app = new App({ broker: url, backend, queues: [work] });
  const env = { NORI_TEST_BROKER: url, NORI_TEST_BACKEND: backend, NORI_TEST_QUEUE: dlq.name, ...APP_NAMES_ENV };
  const stored: string[] = [];
  let base = '';
  const path = `/dashboard/dlq/${encodeURIComponent(dlq.name)}`;
  const letters = async (): Promise<Letter[]> => (await apiAt<{ letters: Letter[] }>(base, path)).letters;
  const post = async (to: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(base + to, { method: 'POST', ...init });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  /** The ids of the first `count` messages to reach the work queue (taken off it); for 0, of any that came within 1.5 s. */
  const arrived = async (count: number): Promise<unknown[]> =>
    (await collect(conn, [work], Math.max(count, 1), { timeoutMs: count === 0 ? 1500 : 10_000 })).map((m) => m.headers['id']);

  /** `n` tasks sent to the work queue and dead-lettered by a consumer whose two attempts fail; their ids. */
  async function deadLetter(n: number): Promise<string[]> {
    const before = await conn.queueSize(dlq);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await app.sendTask('cli.add', [i, 1], {}, { queue: work.name })).taskId);
    await giveUp(conn, work, dlq, before + n);
    return ids;
  }

  beforeAll(async () => {
    await conn.declare(dlq);
    await conn.declare(work);
    base = await startFlower(APP, env);
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    for (const id of stored) await app.backend.forget(id);
    await app.close();
    await names.deleteAll(conn);
    await deleteCeleryNames(conn);
    await conn.close();
  });

  it('finds the dead-letter queue, lists its messages without consuming them, replays one home, purges one, then all', async () => {
    const ids = await deadLetter(4);
    await app.backend.storeResult(ids[0]!, 'FAILURE', new Error('no such user'));
    stored.push(ids[0]!);

    const found = await apiAt<{ queues: unknown[] }>(base, '/dashboard/dlq');
    expect(found.queues).toEqual([{ name: dlq.name, messages: 4, from: work.name }]);
    const listed = await letters();
    expect(listed.map((l) => l.id).sort()).toEqual([...ids].sort());
    for (const l of listed)
      expect(l).toMatchObject({ task: 'cli.add', queue: work.name, reason: 'rejected', attempts: 2, error: l.id === ids[0] ? 'Error: no such user' : null });
    // Read again: the same, in the same order.
    expect((await letters()).map((l) => l.id)).toEqual(listed.map((l) => l.id));
    const order = listed.map((l) => l.id);
    const inOrder = (...some: string[]): string[] => order.filter((id) => some.includes(id));

    // Another site's page cannot make the browser replay; a purge must name its messages or say all.
    const evil = await post(`${path}/replay`, { headers: { Origin: 'http://evil.example' } });
    expect(evil).toEqual({ status: 403, body: { error: 'Cross-origin change refused (Origin: http://evil.example)' } });
    expect(await post(`${path}/purge`)).toEqual({ status: 400, body: { error: 'give id, or all=true to purge every message' } });
    expect((await letters()).map((l) => l.id)).toEqual(order);

    const replayed = await post(`${path}/replay?id=${ids[1]}`);
    expect(replayed).toEqual({
      status: 200,
      body: { message: `Replayed 1 of 1 message from ${dlq.name}.`, replayed: [{ id: ids[1], task: 'cli.add', to: work.name }] },
    });
    expect(await arrived(1)).toEqual([ids[1]]);
    expect((await letters()).map((l) => l.id)).toEqual(inOrder(ids[0]!, ids[2]!, ids[3]!));

    expect(await post(`${path}/replay?id=nope`)).toEqual({
      status: 409,
      body: { error: `Replayed 0 of 0 messages from ${dlq.name}. Not in the queue: nope.` },
    });
    expect(await post(`${path}/purge?id=${ids[2]}`)).toEqual({ status: 200, body: { message: `Purged 1 message from ${dlq.name}.`, purged: [ids[2]] } });
    expect((await letters()).map((l) => l.id)).toEqual(inOrder(ids[0]!, ids[3]!));
    expect(await post(`${path}/purge?all=true`)).toEqual({ status: 200, body: { message: `Purged 2 messages from ${dlq.name}.` } });
    expect(await letters()).toEqual([]);
    expect(await arrived(0)).toEqual([]);
    expect((await fetch(`${base}/dashboard/dlq/${dlq.name}-nope`)).status).toBe(404);
  }, 60_000);

  it.runIf(name === 'redis')(
    'refuses a replay without credentials when the API is not opened',
    async () => {
      const [id] = await deadLetter(1);
      const f = start(['-A', APP, 'flower', '--port', '0'], env);
      const closed = (await f.waitFor(/nori flower on (http:\/\/\S+)/))[1]!;
      const r = await fetch(`${closed}${path}/replay?id=${id}`, { method: 'POST' });
      expect(r.status).toBe(401);
      expect((await letters()).map((l) => l.id)).toEqual([id]);
      expect(await post(`${path}/purge?all=true`)).toMatchObject({ status: 200 });
    },
    30_000,
  );

  it.runIf(name === 'redis')(
    'the page: the queue listed, a ticked message replayed with its button, the rest purged after asking',
    async () => {
      const ids = await deadLetter(3);
      await app.backend.storeResult(ids[0]!, 'FAILURE', new Error('no such user'));
      stored.push(ids[0]!);
      mkdirSync(ARTIFACTS, { recursive: true });
      // Playwright's own throwaway profile (launchChromium's removal can race Chromium still writing it).
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage();
        await page.setViewportSize({ width: 1280, height: 700 });
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
        page.on('dialog', (d) => void d.accept());
        await page.goto(base);
        await page.click('nav a[data-section="dlq"]');
        const queueRow = page.locator(`#dlq-queues tr[data-queue="${dlq.name}"]`);
        await queueRow.waitFor({ timeout: 10_000 });
        expect(await queueRow.locator('td').allTextContents()).toEqual([dlq.name, '3', work.name]);
        await queueRow.locator('a').click();
        const row = (id: string) => page.locator(`#dlq-messages tr[data-id="${id}"]`);
        await row(ids[2]!).waitFor({ timeout: 10_000 });
        expect(await page.locator('#dlq-messages tbody tr').count()).toBe(3);
        expect((await row(ids[0]!).locator('td').allTextContents()).slice(1, 6)).toEqual([ids[0], 'cli.add', work.name, 'rejected', '2']);
        expect(await row(ids[0]!).locator('td').last().textContent()).toBe('Error: no such user');
        expect(await page.isDisabled('#replay-selected')).toBe(true);
        await row(ids[1]!).locator('input[name="pick"]').check();
        await page.screenshot({ path: join(ARTIFACTS, 'flower-dlq.png'), fullPage: true });
        await page.click('#replay-selected');
        await row(ids[1]!).waitFor({ state: 'detached', timeout: 10_000 });
        expect(await page.locator('#notice').textContent()).toBe(`Replayed 1 of 1 message from ${dlq.name}.`);
        expect(await arrived(1)).toEqual([ids[1]]);
        expect((await letters()).map((l) => l.id).sort()).toEqual([ids[0], ids[2]].sort());

        await page.click('#purge-all');
        await page.locator('#view p', { hasText: 'No messages.' }).waitFor({ timeout: 10_000 });
        expect(await letters()).toEqual([]);
        expect(await arrived(0)).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
