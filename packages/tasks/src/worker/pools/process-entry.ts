/**
 * A process-pool child: runs the worker's calls one at a time as they come over IPC, and exits
 * when the worker says so or goes away (its IPC channel closes), so no child outlives its worker
 * while it is idle.
 */
import { flatten, type FromChild, type PoolOutcome, type ToChild } from './pool-call.js';
import { receive, runCall } from './run-call.js';

function send(message: FromChild): void {
  process.send?.(message);
}

function done(outcome: PoolOutcome): void {
  const rss = process.memoryUsage.rss();
  try {
    send({ type: 'done', outcome, rss });
  } catch (error) {
    // A value structured clone cannot copy (a function, a Symbol) fails the task rather than the child.
    send({ type: 'done', outcome: { ok: false, error: flatten(error), runs: outcome.runs }, rss });
  }
}

process.on('message', (message: ToChild) => {
  if (message.type === 'run') void runCall(message.call, send).then(done);
  else if (message.type === 'exit') process.exit(0);
  else receive(message);
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
