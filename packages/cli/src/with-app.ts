import type { App } from '@nori/tasks';
import { loadApp, type AppSource } from './load-app.js';

/** Run `fn` with the app, closing it afterwards whatever happens. */
export async function withApp<T>(source: AppSource, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await loadApp(source);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
