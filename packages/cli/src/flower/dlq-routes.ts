/**
 * The dead-letter page's routes (issue 27 item 3), what `nori dlq ls|replay|purge` does, through
 * the same DeadLetterQueue: the dead-letter queues the server can tell (a known queue whose first
 * message carries an x-death record), a queue's messages without consuming them, replaying
 * messages to the queues they came from and purging them. Arguments in the query string or a form,
 * as Flower's routes: `id` (repeated or comma-separated), `limit`, `to`, and `all=true` for a purge
 * of every message. One operation at a time: replay reads the transport's `returned` events of its
 * own publish, and a listing would not see the messages another request holds.
 */
import { NotFoundError } from '@nori/core';
import { HttpError } from '../errors.js';
import type { DeadLetter } from '../dlq/dead-letter.js';
import { DeadLetterQueue, type Selection } from '../dlq/dead-letter-queue.js';
import { addStoredErrors } from '../dlq/stored-errors.js';
import { knownQueues } from './known-queues.js';
import { intParam, truthy, type FlowerContext, type Route } from './route.js';

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

function selectionOf(p: URLSearchParams): Selection {
  const ids = p.getAll('id').flatMap((v) => v.split(',').filter(Boolean));
  const limit = intParam(p, 'limit');
  if (limit !== undefined && limit < 1) throw new HttpError(400, 'limit must be at least 1');
  return { ...(ids.length > 0 && { ids: new Set(ids) }), ...(limit !== undefined && { limit }) };
}

/** Ids asked for that the queue did not hold, as a sentence (empty when none). */
function missing(selection: Selection, found: readonly DeadLetter[]): string {
  const gone = [...(selection.ids ?? [])].filter((id) => !found.some((l) => l.id === id));
  return gone.length > 0 ? ` Not in the queue: ${gone.join(', ')}.` : '';
}

export function dlqRoutes({ app, workers }: FlowerContext): Route[] {
  let last: Promise<unknown> = Promise.resolve();
  /** Runs `fn` on the queue after every operation before it; a 404 for a queue that does not exist. */
  const withQueue = <T>(name: string, fn: (q: DeadLetterQueue, size: number) => Promise<T>): Promise<T> => {
    const run = last.then(async () => {
      const q = new DeadLetterQueue(await app.connection.transport(), name);
      let size: number;
      try {
        size = await q.size();
      } catch (error) {
        if (error instanceof NotFoundError) throw new HttpError(404, `Queue ${name} does not exist`);
        throw error;
      }
      return fn(q, size);
    });
    last = run.catch(() => undefined);
    return run;
  };
  return [
    {
      // Known queues a worker does not consume (a peek at a consumed one would race its worker)
      // whose first message was dead-lettered, with the queue it came from.
      method: 'GET',
      path: /^\/dashboard\/dlq$/,
      run: async () => {
        const queues = [];
        for (const [name, by] of await knownQueues(app, workers)) {
          if (by.length > 0) continue;
          const head = await withQueue(name, async (q, size) => (size > 0 ? { size, letter: (await q.list(1))[0] } : undefined)).catch((error: unknown) =>
            error instanceof HttpError ? undefined : Promise.reject(error),
          );
          if (head?.letter?.queue) queues.push({ name, messages: head.size, from: head.letter.queue });
        }
        return { queues };
      },
    },
    {
      method: 'GET',
      path: /^\/dashboard\/dlq\/(.+)$/,
      run: ({ match, params }) =>
        withQueue(match[1]!, async (q, size) => {
          const letters = await q.list(intParam(params, 'limit', 100)!);
          await addStoredErrors(app, letters);
          return { queue: q.name, messages: size, letters };
        }),
    },
    {
      method: 'POST',
      path: /^\/dashboard\/dlq\/(.+)\/replay$/,
      change: true,
      run: ({ match, params }) => {
        const selection = selectionOf(params);
        return withQueue(match[1]!, async (q) => {
          const outcomes = await q.replay(selection, params.get('to') || undefined);
          const failed = outcomes.filter((x) => x.failure !== undefined);
          const notFound = missing(
            selection,
            outcomes.map((x) => x.letter),
          );
          const message = `Replayed ${outcomes.length - failed.length} of ${plural(outcomes.length, 'message')} from ${q.name}.${failed.map((x) => ` ${x.letter.id} stays: ${x.failure}.`).join('')}${notFound}`;
          // As `nori dlq replay` exits 1: a message that stayed, or an id not found, fails the request.
          if (failed.length > 0 || notFound) throw new HttpError(409, message);
          return { message, replayed: outcomes.map(({ letter, to }) => ({ id: letter.id, task: letter.task, to })) };
        });
      },
    },
    {
      method: 'POST',
      path: /^\/dashboard\/dlq\/(.+)\/purge$/,
      change: true,
      run: ({ match, params }) => {
        const selection = selectionOf(params);
        // Every message only when asked in so many words: a purge without ids is not a slip.
        if (!selection.ids && !truthy(params.get('all'))) throw new HttpError(400, 'give id, or all=true to purge every message');
        return withQueue(match[1]!, async (q) => {
          if (!selection.ids) return { message: `Purged ${plural(await q.purgeAll(), 'message')} from ${q.name}.` };
          const purged = await q.purge(selection);
          const notFound = missing(selection, purged);
          const message = `Purged ${plural(purged.length, 'message')} from ${q.name}.${notFound}`;
          if (notFound) throw new HttpError(409, message);
          return { message, purged: purged.map((l) => l.id) };
        });
      },
    },
  ];
}
