/** Runs inside a pool thread (tinypool's task function): one call, with a port of its own for the worker's messages. */
import type { MessagePort } from 'node:worker_threads';
import type { PoolCall, PoolOutcome } from './pool-call.js';
import { receive, runCall } from './run-call.js';

export default async function runThreadCall(call: PoolCall & { port: MessagePort }): Promise<PoolOutcome> {
  call.port.on('message', receive);
  try {
    return await runCall(call, (message) => call.port.postMessage(message));
  } finally {
    call.port.close();
  }
}
