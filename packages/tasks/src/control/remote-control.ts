/**
 * Wires remote control into an App: every worker it makes gets a mailbox node (unless
 * `enableRemoteControl` is false, Celery's `worker_enable_remote_control`), and the App gets its
 * `control` client. Both share the App's Lamport clock.
 */
import type { App } from '../app.js';
import { Control } from './control.js';
import { Mailbox, type ControlOptions } from './mailbox.js';
import { ControlNode } from './node.js';
import { RequestTracker } from './requests.js';

export interface RemoteControlOptions extends ControlOptions {
  /** Workers answer remote control commands. Default true. */
  enableRemoteControl?: boolean;
}

export function remoteControl(app: App, options: RemoteControlOptions): Control {
  const mailbox = new Mailbox(options);
  const clock = app.events.clock;
  if (options.enableRemoteControl !== false) {
    app.on('worker-created', (worker) => {
      const startedAt = Date.now();
      const requests = new RequestTracker(worker);
      const file = worker.options.stateFile;
      worker.use(
        new ControlNode({
          mailbox,
          connection: worker.connection,
          clock,
          accept: app.conf.accept,
          context: () => ({
            worker,
            tasks: app.tasks,
            conf: app.conf,
            clock,
            requests,
            events: app.events.ofWorker(worker),
            broker: worker.connection.info(),
            startedAt,
            saveRevoked: () => (file ? worker.revoked.save(file) : Promise.resolve()),
          }),
        }),
      );
    });
  }
  return new Control({ connection: app.connection, oid: app.oid, clock, mailbox, serializer: app.conf.policy.serializer, accept: app.conf.accept });
}
