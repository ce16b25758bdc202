/**
 * The page of `nori flower` in Debian's Chromium (headless, driven by playwright-core, which
 * downloads nothing), watching a `nori worker -E` on Redis: every view opened through its links
 * (workers, a worker, tasks, a task, broker), live updates, the task list's search, filter, sort
 * and paging, a task's reported progress (updateState) live on the list and its page, a far-ETA
 * task revoked from its page shown REVOKED, a running task terminated, a
 * worker control and a consumer added from the worker's page, and every view on a phone-sized
 * window without sideways scrolling. No console error, no request leaving the server. The
 * screenshots go to test/artifacts/ (docs/ has copies).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@nori/core';
import { APP, APP_NAMES_ENV, BACKEND, REDIS, cleanUp, start } from './bin.js';
import { launchChromium } from './chromium.js';
import { apiAt, startFlower, until } from './flower-client.js';

const queue = `cli-page-${randomUUID().slice(0, 8)}`;
const extraQueue = `${queue}-extra`;
const hostname = `page-${randomUUID().slice(0, 8)}@test`;
const env = { NORI_TEST_BROKER: REDIS, NORI_TEST_BACKEND: BACKEND, NORI_TEST_QUEUE: queue, ...APP_NAMES_ENV };
const ARTIFACTS = fileURLToPath(new URL('artifacts/', import.meta.url));
const conn = new Connection(REDIS);
let base = '';
let browser: BrowserContext;
const problems: string[] = [];
/** The one query the test sends wrong on purpose (its 400 is the point). */
const BAD_SEARCH = encodeURIComponent('state:FAILURE OR').replace(/%20/g, '+');

const api = <T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<T> => apiAt<T>(base, path, init);
const send = async (task: string, body: Record<string, unknown>): Promise<string> =>
  (await api(`/api/task/async-apply/${task}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }))[
    'task-id'
  ] as string;
const state = async (id: string): Promise<string | undefined> => ((await api(`/api/task/info/${id}`))['state'] as string | undefined) ?? undefined;

async function open(size: { width: number; height: number } = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize(size);
  // A failed request is logged by Chromium too; it is recorded below with its URL instead.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(`console: ${m.text()}`));
  page.on('response', (r) => r.status() >= 400 && !r.url().includes(BAD_SEARCH) && problems.push(`${r.status()} ${r.url()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => !r.url().startsWith(base) && !r.url().startsWith('data:') && problems.push(`request outside the server: ${r.url()}`));
  page.on('dialog', (d) => void d.accept());
  return page;
}

/** expect.poll with room for a loaded machine (its default is 1 s). */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 10_000 });
const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  base = await startFlower(APP, env);
  const worker = start(['-A', APP, 'worker', '-E', '-c', '2', '-n', hostname, '-l', 'info'], env);
  await worker.waitFor(/ready, consuming/);
  await until(async () => ((await api<Record<string, boolean>>('/api/workers?status=true'))[hostname] ? true : undefined));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await cleanUp(conn, [queue, extraQueue]);
});

describe('nori flower: the page in headless Chromium', () => {
  it('workers view: the worker online, linked to its page; a task sent meanwhile reaches the task list live', async () => {
    const page = await open();
    await page.goto(base);
    const row = page.locator(`tr.worker[data-hostname="${hostname}"]`);
    await poll(() => row.locator('.badge').textContent()).toBe('online');
    await page.locator('#live').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 });
    for (let i = 0; i < 4; i++) await send('cli.add', { args: [i, 10] });
    await until(async () => ((await page.locator('#rate').textContent())?.startsWith('0 ') ? undefined : true), 10_000);
    await shot(page, 'flower-workers.png');
    // Counts line up under their headers; the chart's axis labels keep their shape as it stretches.
    expect((await page.getByText('60 s ago').boundingBox())!.width).toBeLessThan(60);
    expect(await page.evaluate(`[...document.querySelectorAll('#workers th')].map((th) => getComputedStyle(th).textAlign)`)).toEqual([
      'left',
      'left',
      'right',
      'right',
      'left',
      'left',
    ]);

    await page.click('nav a[data-section="tasks"]');
    await page.locator('#tasks').waitFor();
    expect(new URL(page.url()).pathname).toBe('/tasks');
    const sentAt = Date.now();
    const id = await send('cli.add', { args: [40, 2] });
    const taskRow = page.locator(`tr.task[data-id="${id}"]`);
    await taskRow.waitFor({ timeout: 5000 });
    expect(Date.now() - sentAt).toBeLessThan(3000);
    await poll(() => taskRow.locator('.badge').textContent()).toBe('SUCCESS');
    await page.close();
  });

  it("tasks view: Flower's search, the state filter, sorting and paging, all in the address", async () => {
    const failed = await send('cli.fail', { args: ['out of cheese'] });
    await until(async () => ((await state(failed)) === 'FAILURE' ? true : undefined));
    const page = await open();
    await page.goto(`${base}/tasks`);
    await page.locator('tr.task').first().waitFor();
    await page.fill('#search', 'state:FAILURE result:cheese');
    await page.press('#search', 'Enter');
    await poll(() => page.locator('tr.task').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([failed]);
    expect(new URL(page.url()).searchParams.get('search')).toBe('state:FAILURE result:cheese');
    await page.fill('#search', 'state:FAILURE OR');
    await page.press('#search', 'Enter');
    await poll(() => page.locator('#search-error').textContent()).toContain('OR must be followed by a search term');

    await page.goto(`${base}/tasks?state=SUCCESS`);
    await page.locator('tr.task').first().waitFor();
    expect(await page.locator('#state-filter').inputValue()).toBe('SUCCESS');
    const states = await page.locator('tr.task .badge').allTextContents();
    expect(new Set(states)).toEqual(new Set(['SUCCESS']));
    await page.click('button[data-sort="received"]');
    await poll(() => new URL(page.url()).searchParams.get('sort_by')).toBe('received');
    const shown = (): Promise<Array<string | null>> => page.locator('tr.task').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    const expected = Object.keys(await api('/api/tasks?state=SUCCESS&sort_by=received&limit=25'));
    expect(expected.length).toBeGreaterThan(1);
    await poll(shown).toEqual(expected);
    await page.click('button[data-sort="received"]');
    await poll(shown).toEqual([...expected].reverse());
    await page.selectOption('#page-size', '25');
    await page.goto(`${base}/tasks?state=SUCCESS&sort_by=received&limit=2`);
    await page.locator('tr.task').first().waitFor();
    expect(await page.locator('tr.task').count()).toBe(2);
    await poll(() => page.locator('#page-info').textContent()).toMatch(/^1–2 of \d+/);
    await page.click('#next');
    await poll(() => page.locator('#page-info').textContent()).toMatch(/^3–/);
    expect(new URL(page.url()).searchParams.get('offset')).toBe('2');
    await page.goto(`${base}/tasks`);
    await page.locator('tr.task').first().waitFor();
    await shot(page, 'flower-tasks.png');
    expect(await page.evaluate(`getComputedStyle([...document.querySelectorAll('#tasks th')].at(-1)).textAlign`)).toBe('right');
    await page.close();
  });

  it('task view: a far-ETA task revoked from its page shows REVOKED; a running one is terminated', async () => {
    const page = await open();
    const later = await send('cli.add', { args: [1, 2], countdown: 3600 });
    await until(async () => ((await state(later)) === 'RECEIVED' ? true : undefined));
    await page.goto(`${base}/tasks?search=${later}`);
    await page.click(`tr.task[data-id="${later}"] td:first-child a`);
    await poll(() => page.locator('#task-state').textContent()).toBe('RECEIVED');
    expect(await page.locator('dd[data-field="eta"]').textContent()).toMatch(/^\d{4}-/);
    await page.click('#revoke');
    await poll(() => page.locator('#notice').textContent()).toBe(`Revoke: Revoked '${later}'`);
    await poll(() => page.locator('#task-state').textContent()).toBe('REVOKED');
    expect(await state(later)).toBe('REVOKED');
    expect(await page.locator('#timeline tr[data-state="REVOKED"]').count()).toBe(1);
    expect(await page.locator('#revoke').count()).toBe(0);
    await shot(page, 'flower-task.png');

    const running = await send('cli.sleep', { args: [60_000] });
    await until(async () => ((await state(running)) === 'STARTED' ? true : undefined));
    await page.goto(`${base}/task/${running}`);
    await poll(() => page.locator('#task-state').textContent()).toBe('STARTED');
    await page.click('#terminate');
    await poll(() => page.locator('#task-state').textContent()).toBe('REVOKED');
    await poll(() => page.locator('#stored dd[data-field="state"]').textContent()).toBe('REVOKED');
    await page.close();
  });

  it('a task reporting progress: its state and bar follow the task-progress events on the task list and the task page', async () => {
    const page = await open();
    await page.goto(`${base}/tasks`);
    await page.locator('#tasks').waitFor({ timeout: 10_000 });
    const id = await send('cli.progress', { args: [3, 1500] });
    const row = page.locator(`tr.task[data-id="${id}"]`);
    await poll(() => row.locator('.badge').textContent()).toBe('PROGRESS');
    await poll(() => row.locator('.progress').textContent()).toMatch(/^[1-3]\/3$/);
    expect(await row.locator('progress').count()).toBe(1);
    await page.click(`tr.task[data-id="${id}"] td:first-child a`);
    await poll(() => page.locator('#task-state').textContent()).toBe('PROGRESS');
    await poll(() => page.locator('dd[data-field="progress"]').textContent()).toBe('3/3');
    await poll(() => page.locator('#task-state').textContent()).toBe('SUCCESS');
    expect(await page.locator('dd[data-field="progress"]').count()).toBe(0);
    await page.close();
  });

  it('worker view: pool, queues, tasks, stats and config, with a control and a consumer added from it', async () => {
    const page = await open();
    await page.goto(base);
    await page.click(`tr.worker[data-hostname="${hostname}"] a`);
    await page.locator('#pool dd[data-field="max concurrency"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#pool dd[data-field="max concurrency"]').textContent()).toBe('2');
    expect(await page.locator(`#queue-table tr[data-queue="${queue}"]`).count()).toBe(1);
    expect(await page.locator('#tasks tr[data-task="cli.add"]').count()).toBe(1);
    expect(await page.locator('#config').textContent()).toContain('task_default_queue');
    expect(await page.locator('h1 .badge').getAttribute('class')).toBe('badge online');
    await page.fill('#pool-n', '3');
    await page.click('#pool-grow');
    await poll(() => page.locator('#notice').textContent()).toBe(`Grow: Growing '${hostname}' worker's pool by 3`);
    await poll(() => page.locator('#pool dd[data-field="max concurrency"]').textContent()).toBe('5');
    await page.fill('#queue-name', extraQueue);
    await page.click('#add-consumer');
    await poll(() => page.locator('#notice').textContent()).toBe(`Add consumer: add consumer ${extraQueue}`);
    await page.locator(`#queue-table tr[data-queue="${extraQueue}"]`).waitFor({ timeout: 10_000 });
    await shot(page, 'flower-worker.png');
    // A row's name sits level with its controls (the vertical distance of their middles, px).
    const offset = (row: string): Promise<unknown> =>
      page.evaluate(`(() => {
        const tr = document.querySelector(${JSON.stringify(row)});
        const text = document.createRange();
        text.selectNodeContents(tr.cells[0]);
        const a = text.getBoundingClientRect(), b = tr.querySelector('input, button').getBoundingClientRect();
        return Math.abs(a.top + a.height / 2 - (b.top + b.height / 2));
      })()`);
    expect(await offset('#tasks tr[data-task="cli.add"]')).toBeLessThanOrEqual(2);
    expect(await offset(`#queue-table tr[data-queue="${queue}"]`)).toBeLessThanOrEqual(2);
    await page.click(`#queue-table tr[data-queue="${extraQueue}"] button`);
    await poll(() => page.locator(`#queue-table tr[data-queue="${extraQueue}"]`).count()).toBe(0);
    await page.close();
  });

  it('broker view: every queue with its length and the workers consuming it', async () => {
    const page = await open();
    await page.goto(base);
    await page.click('nav a[data-section="broker"]');
    const row = page.locator(`#queue-lengths tr[data-queue="${queue}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('td.num').textContent()).toMatch(/^\d+$/);
    expect(await row.locator('td').nth(2).textContent()).toBe(hostname);
    expect(await page.locator('dd[data-field="url"]').textContent()).toBe(REDIS);
    expect(await page.locator('dd[data-field="transport"]').textContent()).toBe('redis');
    await shot(page, 'flower-broker.png');
    // The time as every other view shows it (24-hour).
    expect(await page.getByText(/^At \d/).textContent()).toMatch(/^At \d{1,2}:\d{2}:\d{2}$/);
    await page.close();
  });

  it('every view fits a phone-sized window (no sideways scrolling), the navigation reachable', async () => {
    const page = await open({ width: 390, height: 844 });
    const id = await send('cli.add', { args: [3, 4] });
    await until(async () => ((await state(id)) === 'SUCCESS' ? true : undefined));
    for (const [path, ready] of [
      ['/', `tr.worker[data-hostname="${hostname}"]`],
      [`/worker/${encodeURIComponent(hostname)}`, '#pool dd'],
      ['/tasks', 'tr.task'],
      [`/task/${id}`, '#timeline'],
      ['/broker', '#queue-lengths'],
    ] as const) {
      await page.goto(base + path);
      await page.locator(ready).first().waitFor({ timeout: 10_000 });
      const [scroll, width] = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [number, number];
      expect(scroll, path).toBeLessThanOrEqual(width);
      for (const section of ['workers', 'tasks', 'broker']) expect(await page.locator(`nav a[data-section="${section}"]`).isVisible(), path).toBe(true);
      if (path === '/tasks') await shot(page, 'flower-phone.png');
    }
    await page.close();
    expect(problems).toEqual([]);
  });
});
