/**
 * The dashboard's beat page (issue 27 item 5): `nori flower` reads a beat's entries and changes
 * from beat's store (the app's result backend Redis) while `nori beat` runs, and changes stored
 * entries through its routes and its page (headless Chromium): an entry stored from the page is
 * sent by the running beat, a code entry turned off and on, a stored one removed; bad input is a
 * 400, an unknown entry a 404.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { APP, APP_NAMES_ENV, BACKEND, REDIS, cleanUp, start, type Child } from './bin.js';
import { CHROMIUM_ARGS } from './chromium.js';
import { apiAt, startFlower, until } from './flower-client.js';

const queue = `cli-beat-page-${randomUUID().slice(0, 8)}`;
const name = `page-${randomUUID().slice(0, 8)}`;
const env = { NORI_TEST_BROKER: REDIS, NORI_TEST_BACKEND: BACKEND, NORI_TEST_QUEUE: queue, ...APP_NAMES_ENV };
const conn = new Connection(REDIS);
let base = '';
let beat: Child;
let browser: Browser;

interface Listing {
  entries: Array<{ name: string; source: string; enabled: boolean; task: string; schedule: string; lastRun: string | null }>;
  changes: Array<{ op: string; entry: string }>;
}

const listing = (): Promise<Listing> => apiAt<Listing>(base, `/dashboard/beat?name=${name}`);
/** A POST with its arguments in the query string; the status and the body. */
async function change(path: string, params: Record<string, string>): Promise<{ status: number; body: string }> {
  const r = await fetch(`${base}${path}?${new URLSearchParams({ beat: name, ...params })}`, { method: 'POST' });
  return { status: r.status, body: await r.text() };
}

beforeAll(async () => {
  base = await startFlower(APP, env);
  beat = start(['-A', APP, 'beat', '--name', name, '--lock-ttl', '2000'], env);
  await beat.waitFor(/beat: leading/);
  // Playwright's own throwaway profile (a persistent one was still being written to when removed).
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  const store = new Redis(BACKEND);
  await store.del(...['lock', 'last_run', 'pending', 'entries', 'disabled', 'version', 'changes', 'code'].map((k) => `nori-beat:${name}:${k}`));
  store.disconnect();
  await cleanUp(conn, [queue]);
});

it('lists the running beat’s code entry; stores, turns off and on, and removes entries through its routes', async () => {
  const first = await until(async () => {
    const l = await listing();
    return l.entries.some((e) => e.name === 'add-often' && e.lastRun !== null) ? l : undefined;
  });
  expect(first.entries.find((e) => e.name === 'add-often')).toMatchObject({ source: 'code', enabled: true, task: 'cli.add', schedule: 'every 500 ms' });

  const stored = await change('/dashboard/beat/entry', { entry: 'from-api', task: 'cli.add', every: '700', args: '[40, 2]', queue });
  expect(stored).toEqual({ status: 200, body: JSON.stringify({ message: 'Stored from-api: cli.add every 700 ms' }) });
  await beat.waitFor(/Sending due task from-api \(cli\.add\)/, 5000);

  expect((await change('/dashboard/beat/disable', { entry: 'add-often' })).status).toBe(200);
  expect((await listing()).entries.find((e) => e.name === 'add-often')?.enabled).toBe(false);
  expect((await change('/dashboard/beat/enable', { entry: 'add-often' })).status).toBe(200);
  expect((await change('/dashboard/beat/remove', { entry: 'from-api' })).status).toBe(200);
  expect(await change('/dashboard/beat/remove', { entry: 'from-api' })).toMatchObject({ status: 404 });
  expect(await change('/dashboard/beat/enable', { entry: 'nobody' })).toMatchObject({ status: 404 });
  expect(await change('/dashboard/beat/entry', { entry: 'bad', task: 'cli.add', every: 'soon' })).toMatchObject({ status: 400 });
  expect(await change('/dashboard/beat/entry', { entry: 'bad', task: 'cli.add' })).toMatchObject({
    status: 400,
    body: expect.stringContaining('every') as string,
  });
  expect(await change('/dashboard/beat/entry', { entry: 'bad', task: 'cli.add', crontab: '61 * * * *' })).toMatchObject({ status: 400 });
  const after = await listing();
  expect(after.entries.map((e) => [e.name, e.enabled])).toEqual([['add-often', true]]);
  expect(after.changes.map((c) => [c.op, c.entry])).toEqual([
    ['remove', 'from-api'],
    ['enable', 'add-often'],
    ['disable', 'add-often'],
    ['upsert', 'from-api'],
  ]);
});

it('the page: an entry stored from its form is listed and sent by the beat, then turned off and removed', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${base}/beat?name=${name}`);
  await page.locator('#beat-entries tr[data-entry="add-often"]').waitFor({ timeout: 10_000 });
  await page.fill('#beat-add input[name="entry"]', 'from-page');
  await page.fill('#beat-add input[name="task"]', 'cli.add');
  await page.selectOption('#beat-add select[name="kind"]', 'every');
  await page.fill('#beat-add input[name="when"]', '600');
  await page.fill('#beat-add input[name="args"]', '[5, 5]');
  await page.fill('#beat-add input[name="queue"]', queue);
  await page.click('#beat-add button[type="submit"]');
  const row = page.locator('#beat-entries tr[data-entry="from-page"]');
  await row.waitFor({ timeout: 10_000 });
  expect(await row.locator('td').nth(4).textContent()).toBe('every 600 ms');
  await beat.waitFor(/Sending due task from-page \(cli\.add\)/, 5000);
  await row.locator('button.toggle').click();
  await expect.poll(() => row.locator('td[data-field="enabled"]').textContent(), { timeout: 10_000 }).toBe('off');
  await row.locator('button.remove').click();
  await page.locator('#beat-entries tr[data-entry="from-page"]').waitFor({ state: 'detached', timeout: 10_000 });
  expect(await page.locator('#beat-changes tr').count()).toBeGreaterThanOrEqual(3);
  expect(problems).toEqual([]);
  await page.close();
}, 60_000);
