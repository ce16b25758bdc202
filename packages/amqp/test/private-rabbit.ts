/**
 * A RabbitMQ node of the test's own (its own node name, ports, data and config), for tests that
 * must put a broker in a state the shared one must never be in (a memory alarm, ...).
 * Debian's `rabbitmq-server` runs the node as the `rabbitmq` user: its directory is handed over.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateRabbit {
  readonly url: string;
  /** Its Erlang node name, `nori-<random>@localhost`. */
  readonly node: string;
  readonly port: number;
  /** `rabbitmqctl <args>` against this node only. */
  ctl(...args: string[]): Promise<string>;
  /** Boots the node again after `ctl('stop')`, with its data (durable queues, persistent messages); resolves once it listens. */
  start(): Promise<void>;
  /** Stops the node for good and deletes its data. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Start a node whose rabbitmq.conf holds `config` (new-style `key = value` lines). */
export async function startPrivateRabbit(config: string): Promise<PrivateRabbit> {
  const [port, distPort] = [await freePort(), await freePort()];
  const node = `nori-${randomUUID().slice(0, 8)}@localhost`;
  const dir = mkdtempSync(join(tmpdir(), 'nori-private-rabbit-'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].');
  writeFileSync(join(dir, 'rabbitmq.conf'), `${config}\n`);
  if (userInfo().uid === 0) {
    const owner = execFileSync('id', ['-u', 'rabbitmq']).toString().trim();
    const group = execFileSync('id', ['-g', 'rabbitmq']).toString().trim();
    for (const path of [dir, ...readdirSync(dir).map((f) => join(dir, f))]) chownSync(path, Number(owner), Number(group));
  }
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
  };
  const ctl = async (...args: string[]): Promise<string> => (await run('rabbitmqctl', ['-n', node, ...args])).stdout;
  const stop = async (): Promise<void> => {
    await ctl('stop').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const start = async (): Promise<void> => {
    execFileSync('rabbitmq-server', ['-detached'], { env, stdio: 'ignore' });
    // Erlang boots slowly on a loaded machine: wait for the AMQP listener, the last step of the boot.
    const deadline = Date.now() + 110_000;
    while (!(await listening(port))) {
      if (Date.now() > deadline) throw new Error(`private RabbitMQ ${node} did not listen on ${port} in time`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  try {
    await start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `amqp://guest:guest@127.0.0.1:${port}//`, node, port, ctl, start, stop };
}
