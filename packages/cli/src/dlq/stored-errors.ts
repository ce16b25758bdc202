/** The failure each dead-lettered task's stored result holds, where the app has a result backend. */
import { TaskError, type App } from '@nori/tasks';
import type { DeadLetter } from './dead-letter.js';

export async function addStoredErrors(app: App, letters: DeadLetter[]): Promise<void> {
  if (app.conf.backend === undefined) return;
  for (const letter of letters) {
    if (letter.task === null) continue;
    const { state, result } = await app.result(letter.id).refresh();
    if (state === 'FAILURE' && result instanceof TaskError) letter.error = result.message;
  }
}
