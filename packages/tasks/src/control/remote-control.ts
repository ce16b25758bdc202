/**
 * A worker's end of remote control (Celery's pidbox node with its handlers): the mailbox node
 * that reads the commands addressed to the worker and answers them from the panel. The App adds
 * it to every worker it makes, unless `enableRemoteControl` is false (Celery's
 * `worker_enable_remote_control`); it shares the App's Lamport clock.
 */
import type { ResolvedConfig } from '../config.js';
import type { LamportClock } from '../events/clock.js';
import type { WorkerEventSender } from '../events/worker-event-sender.js';
import type { Task, TaskHandler } from '../task.js';
import type { Worker } from '../worker/worker.js';
import type { Mailbox } from './mailbox.js';
import { ControlNode } from './node.js';
import { HeldTasks } from './held-tasks.js';

/** What a worker's remote control needs from its App. */
export interface RemoteControlHost {
  readonly conf: ResolvedConfig;
  readonly tasks: ReadonlyMap<string, Task<TaskHandler>>;
  readonly mailbox: Mailbox;
  readonly clock: LamportClock;
}

/** The mailbox node of a worker (`events`: its event sender, when it sends events). */
export function remoteControlNode(host: RemoteControlHost, worker: Worker, events: WorkerEventSender | undefined): ControlNode {
  const startedAt = Date.now();
  const held = new HeldTasks(worker);
  const file = worker.options.stateFile;
  return new ControlNode({
    mailbox: host.mailbox,
    connection: worker.connection,
    clock: host.clock,
    accept: host.conf.accept,
    context: () => ({
      worker,
      tasks: host.tasks,
      conf: host.conf,
      clock: host.clock,
      held,
      events,
      broker: worker.connection.info(),
      startedAt,
      saveRevoked: () => (file ? worker.revoked.save(file) : Promise.resolve()),
    }),
  });
}
