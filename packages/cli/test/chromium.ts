/**
 * Debian's Chromium for the page tests (installed by scripts/services.sh), driven by playwright-core,
 * which downloads nothing: headless, no sandbox (containers), nothing fetched of its own, and a new
 * empty profile each time: Playwright's own temporary one (an empty userDataDir), which it removes
 * once Chromium has exited. Removing one of ours on the context's `close` raced Chromium still
 * writing to it (ENOTEMPTY, an uncaught error of the test run, retries or not).
 */
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

/** A browser with a profile of its own, removed after `close()`. */
export function launchChromium(): Promise<BrowserContext> {
  return chromium.launchPersistentContext('', { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}
