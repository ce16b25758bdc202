/**
 * Wake-ups from a change stream. On a replica set or a sharded cluster every insert into the
 * messages collection, and every lease cleared (requeue, release), wakes the idle poll at once, so
 * a message published by another process is claimed within milliseconds instead of after the
 * poll's back-off. A standalone server (or an emulator) has no change streams: then nothing is
 * watched and the poll's back-off bounds the latency. Lapsed leases and ETAs produce no event;
 * the poll still finds those.
 */
import type { ChangeStream, Collection, Db, Document } from 'mongodb';
import type { Logger } from '@nori/core';

export type WakeSource = 'change-stream' | 'poll';

/** Change streams need a replica set or mongos; probed by behaviour (hello), not by version. */
export async function supportsChangeStreams(db: Db): Promise<boolean> {
  const hello = await db.admin().command({ hello: 1 });
  return typeof hello['setName'] === 'string' || hello['msg'] === 'isdbgrid';
}

const WAKING_CHANGES: Document[] = [
  {
    $match: {
      $or: [{ operationType: 'insert' }, { operationType: 'update', 'updateDescription.updatedFields.leaseUntil': null }],
    },
  },
];

export class ChangeWake {
  #stream: ChangeStream | undefined;

  constructor(
    private readonly onChange: () => void,
    private readonly logger: Logger,
  ) {}

  get source(): WakeSource {
    return this.#stream ? 'change-stream' : 'poll';
  }

  watch<T extends Document>(collection: Collection<T>): void {
    const stream = collection.watch(WAKING_CHANGES);
    stream.on('change', this.onChange);
    // The driver resumes on resumable errors by itself; anything else ends the stream and leaves
    // the poll in charge, which delivers the same messages, only later.
    stream.on('error', (error: Error) => {
      this.logger.warn({ err: error.message }, 'nori mongodb: change stream failed; polling only');
      void this.close();
    });
    this.#stream = stream;
  }

  async close(): Promise<void> {
    const stream = this.#stream;
    this.#stream = undefined;
    await stream?.close().catch(() => undefined);
  }
}
