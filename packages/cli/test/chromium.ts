/**
 * Debian's Chromium for the page tests (installed by scripts/services.sh), driven by playwright-core,
 * which downloads nothing: headless, no sandbox (containers), nothing fetched of its own, and a new
 * empty profile each time, removed with the browser (retried: Chromium may still be writing to it,
 * ENOTEMPTY).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a profile of its own; `close()` also removes the profile. */
export async function launchChromium(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'nori-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  context.on('close', () => rmSync(profile, { recursive: true, force: true, maxRetries: 5 }));
  return context;
}
