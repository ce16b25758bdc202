/** What every conformance test gets: the options, connections that are closed afterwards, unique names. */
import { Connection, type ConnectionOptions, type Message } from '@nori/core';
import { TestNames } from './names.js';

export interface ConformanceOptions {
  /** Used in describe() titles and as the prefix of every queue and exchange name. */
  name: string;
  url: string;
  /** An unreachable URL of the same scheme: failed-connect and failover tests. */
  deadUrl?: string;
  /** Merged into every Connection the suite opens. */
  connectionOptions?: ConnectionOptions;
  /**
   * How long the client library keeps a process alive after a refused connect, beyond nori's
   * control (ioredis's Sentinel probe clients: a fixed 2 s disconnect timer each).
   */
  failedConnectLingerMs?: number;
  /** Modules a child process imports to register the transport (kill-and-redeliver); omit for process-local transports. */
  childImports?: readonly string[];
  /**
   * In-flight messages are held under a lease their consumer renews (the store-backed transports):
   * a consumer that stops renewing (a blocked event loop) loses its messages to other consumers.
   */
  leases?: boolean;
}

export class SuiteContext {
  readonly #open = new Set<Connection>();
  /** Every name handed out: deleted as queue and as exchange when the suite ends. */
  readonly #names: TestNames;

  constructor(readonly options: ConformanceOptions) {
    this.#names = new TestNames(`nori-conf-${options.name}`);
  }

  /** A unique entity name; transports share brokers with parallel test files. */
  name(what: string): string {
    return this.#names.name(what);
  }

  /** `options.transportOptions` are added to the suite's, not put in their place. */
  connection(url: string | string[] = this.options.url, options: ConnectionOptions = {}): Connection {
    const base = this.options.connectionOptions ?? {};
    const transportOptions = { ...base.transportOptions, ...options.transportOptions };
    const conn = new Connection(url, { ...base, ...options, transportOptions });
    this.#open.add(conn);
    return conn;
  }

  async closeAll(): Promise<void> {
    const open = [...this.#open];
    this.#open.clear();
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    await this.#deleteNamed();
  }

  /** The brokers are shared: leave no queue, exchange or binding of this run behind. */
  async #deleteNamed(): Promise<void> {
    const conn = new Connection(this.options.url, this.options.connectionOptions);
    conn.on('error', () => undefined);
    try {
      await this.#names.deleteAll(conn);
    } finally {
      await conn.close().catch(() => undefined);
    }
  }
}

/** Collect `count` messages from a consumer (acking each), or fail after `timeoutMs`. */
export async function collect(
  conn: Connection,
  queues: Parameters<Connection['consumer']>[0],
  count: number,
  options: { timeoutMs?: number; ack?: boolean; accept?: string[] } = {},
): Promise<Message[]> {
  const got: Message[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const consumer = conn.consumer(queues, { prefetch: 10, ...(options.accept && { accept: options.accept }) }, async (m) => {
    got.push(m);
    if (options.ack ?? true) await m.ack();
    if (got.length === count) done();
  });
  await consumer.start();
  const timer = setTimeout(done, options.timeoutMs ?? 5000);
  await finished;
  clearTimeout(timer);
  await consumer.stop();
  return got;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const bodies = (messages: readonly Message[]): unknown[] => messages.map((m) => m.body);

/** Resolves once `predicate` holds, checking every 20 ms; fails after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
