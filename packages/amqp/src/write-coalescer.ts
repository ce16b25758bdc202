/**
 * amqplib writes every frame to the socket on its own: a burst of 1,000 publishes (or acks) costs
 * 1,000 write syscalls, which on a small machine is most of the cost. Corking the socket on the
 * first write of a burst and uncorking after amqplib's muxer has run turns the burst into a few
 * writevs. The muxer writes from a setImmediate scheduled after ours, so the uncork waits two
 * event-loop turns (well under a millisecond on a busy loop). The muxer stops at the socket's
 * high-water mark and resumes on 'drain', frame by frame again: so each drain corks too.
 *
 * The socket is amqplib's `connection.stream`, which its typings do not declare; when it is
 * absent (another amqplib layout) nothing is corked and frames go out as amqplib writes them.
 */
import type { Writable } from 'node:stream';

class WriteCoalescer {
  #corked = false;

  constructor(private readonly socket: Writable) {
    // Before amqplib's own 'drain' listener, which is where the muxer writes the next frames.
    socket.prependListener('drain', () => this.hold());
  }

  hold(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.socket.cork();
    setImmediate(() =>
      setImmediate(() => {
        this.#corked = false;
        this.socket.uncork();
      }),
    );
  }
}

/** One per amqplib connection; null where the socket cannot be found. */
const coalescers = new WeakMap<object, WriteCoalescer | null>();

/**
 * Call before a publish, ack or nack on a channel (or channel model): the frames written in this
 * event-loop turn leave together.
 */
export function holdWrites(owner: object): void {
  const connection = (owner as { connection?: { stream?: Partial<Writable> } }).connection;
  if (!connection) return;
  let coalescer = coalescers.get(connection);
  if (coalescer === undefined) {
    const stream = connection.stream;
    coalescer = typeof stream?.cork === 'function' && typeof stream.uncork === 'function' ? new WriteCoalescer(stream as Writable) : null;
    coalescers.set(connection, coalescer);
  }
  coalescer?.hold();
}
