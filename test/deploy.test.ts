/**
 * docs/deploy.md as a user copies it: the systemd units (systemd-analyze verify where installed),
 * the supervisor programs, the Dockerfile and the Kubernetes manifests parsed and their fields
 * checked (no npx, stop timeouts longer than the worker's shutdown timeout, the probe and the
 * scaler aimed at the worker), and each example's worker command run for real against Redis:
 * its liveness command answers while it runs and SIGTERM stops it with 0 within the stop timeout;
 * the Kubernetes probe fails once it has stopped. `/opt/myapp` (WORKDIR /app) is a test directory whose
 * app.js is a test app on this file's queue, mailbox and event exchange.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAll } from 'js-yaml';
import { Connection } from '@nori/core';
import { redisUrl } from '@nori/testing/brokers';
import { duration } from '../packages/cli/src/parse.js';
import { CONTROL_EXCHANGE, EVENT_EXCHANGE, deleteCeleryNames } from '../packages/tasks/test/celery-names.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
const HOST = `deploy-${randomUUID().slice(0, 8)}`;
const QUEUE = `nori-deploy-${HOST}`;
const APP_DIR = '/opt/myapp';
const ENV = {
  ...process.env,
  BROKER_URL: redisUrl(),
  RESULT_BACKEND: redisUrl(1),
  DEPLOY_TEST_QUEUE: QUEUE,
  DEPLOY_TEST_CONTROL_EXCHANGE: CONTROL_EXCHANGE,
  DEPLOY_TEST_EVENT_EXCHANGE: EVENT_EXCHANGE,
};

/** The fenced blocks whose first line is a comment naming their file (`# Dockerfile`), by that name. */
const files = new Map(
  [...DOC.matchAll(/^( *)```\w+\n *(?:#|;|\/\/) (\S+)\n([\s\S]*?)^ *```$/gm)].map(([, indent, name, body]) => [
    name!,
    body!.replace(new RegExp(`^${indent}`, 'gm'), ''),
  ]),
);
function file(name: string): string {
  const text = files.get(name);
  if (text === undefined) throw new Error(`docs/deploy.md has no block headed "${name}"`);
  return text;
}

/** INI sections as systemd and supervisor read them (comments and blank lines skipped; last key wins). */
function ini(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) sections.set(section[1]!, (current = new Map()));
    else {
      const eq = line.indexOf('=');
      current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
  }
  return sections;
}

function section(sections: Map<string, Map<string, string>>, name: string): Map<string, string> {
  const found = sections.get(name);
  if (!found) throw new Error(`no [${name}]`);
  return found;
}

/** The worker's shutdown timeout (ms) from its arguments, parsed as `nori worker` parses it. */
function shutdownTimeout(argv: readonly string[]): number {
  const at = argv.indexOf('--shutdown-timeout');
  expect(at, `--shutdown-timeout in ${argv.join(' ')}`).toBeGreaterThan(0);
  return duration('--shutdown-timeout', 'ms')(argv[at + 1]!);
}

function option(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at < 0 ? undefined : argv[at + 1];
}

/** Enough time past the shutdown timeout to close connections before SIGKILL. */
const CLOSE_MS = 5000;

let dir: string;

beforeAll(() => {
  // The application directory of the examples: app.js, and node_modules/.bin/nori as npm links
  // it (the workspace's built bin, exec'd, so signals reach it as they reach the real link).
  dir = mkdtempSync(join(tmpdir(), 'nori-deploy-'));
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/@nori'), join(dir, 'node_modules/@nori'));
  const bin = join(dir, 'node_modules/.bin/nori');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'packages/cli/dist/bin.js')}" "$@"\n`);
  chmodSync(bin, 0o755);
  writeFileSync(
    join(dir, 'app.js'),
    `import { App } from '@nori/tasks';
export const app = new App({
  broker: process.env.BROKER_URL,
  backend: process.env.RESULT_BACKEND,
  defaultQueue: process.env.DEPLOY_TEST_QUEUE,
  controlExchange: process.env.DEPLOY_TEST_CONTROL_EXCHANGE,
  eventExchange: process.env.DEPLOY_TEST_EVENT_EXCHANGE,
});
app.task('proj.add', (x, y) => x + y);
export const beatSchedule = {};
`,
  );
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const conn = new Connection(redisUrl());
  try {
    await conn.deleteQueue(QUEUE);
    await conn.deleteExchange(QUEUE);
    await deleteCeleryNames(conn);
  } finally {
    await conn.close();
  }
});

const mapped = (text: string): string => text.replaceAll(APP_DIR, dir);

function run(argv: readonly string[], env: NodeJS.ProcessEnv = ENV): { status: number | null; output: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * Runs a worker command as written (after mapping) until it is ready, checks `liveness` exits 0,
 * stops the worker with SIGTERM and checks it exits 0 within `stopTimeoutMs`; with
 * `probeAfterStop`, that `liveness` then fails with 69 (no worker replied).
 */
async function runWorker(
  argv: readonly string[],
  liveness: readonly string[],
  stopTimeoutMs: number,
  { env = ENV, probeAfterStop = false }: { env?: NodeJS.ProcessEnv; probeAfterStop?: boolean } = {},
): Promise<void> {
  const worker = spawn(argv[0]!, argv.slice(1), { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  worker.stdout.on('data', (d: Buffer) => (output += d));
  worker.stderr.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
  try {
    const started = Date.now();
    // The examples run with -l info: the worker says when it consumes.
    while (!/ ready, consuming /.test(output)) {
      if (Date.now() - started > 20_000 || worker.exitCode !== null) throw new Error(`the worker did not get ready: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const probe = run(liveness, env);
    expect(probe.status, probe.output).toBe(0);
    const stopping = Date.now();
    worker.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(stopTimeoutMs);
    if (probeAfterStop) expect(run(liveness, env).status).toBe(69);
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
  }
}

/** `nori inspect ping` of one node, as the liveness check of the examples without a probe of their own. */
const ping = (node: string): string[] => [join(dir, 'node_modules/.bin/nori'), 'inspect', 'ping', '-A', './app.js', '-d', node, '-t', '1s'];

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('docs/deploy.md: systemd', () => {
  const units = ['nori-worker.service', 'nori-beat.service'].map((name) => ({ name, text: file(`/etc/systemd/system/${name}`) }));

  it.skipIf(!hasSystemdAnalyze)('each unit passes systemd-analyze verify without a word', () => {
    for (const { name, text } of units) {
      const path = join(dir, name);
      writeFileSync(path, mapped(text));
      const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
      expect({ name, status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ name, status: 0, output: '' });
    }
  });

  it('runs the bin in the foreground, stops it with SIGTERM to it alone, and waits longer than its shutdown timeout', () => {
    for (const { name, text } of units) {
      const service = section(ini(text), 'Service');
      const argv = service.get('ExecStart')!.split(/\s+/);
      expect({
        name,
        bin: argv[0],
        type: service.get('Type'),
        kill: service.get('KillSignal'),
        mode: service.get('KillMode'),
        restart: service.get('Restart'),
      }).toEqual({
        name,
        bin: `${APP_DIR}/node_modules/.bin/nori`,
        type: 'simple',
        kill: 'SIGTERM',
        mode: 'mixed',
        restart: 'always',
      });
      expect(service.get('WorkingDirectory')).toBe(APP_DIR);
      const stopMs = Number(service.get('TimeoutStopSec')) * 1000;
      if (argv[1] === 'worker') expect(stopMs).toBeGreaterThanOrEqual(shutdownTimeout(argv) + CLOSE_MS);
      else expect(argv[1]).toBe('beat');
    }
  });

  it('the worker of nori-worker.service answers its ping, and systemctl stop (SIGTERM) ends it with 0 in time', async () => {
    const service = section(ini(file('/etc/systemd/system/nori-worker.service')), 'Service');
    const argv = mapped(service.get('ExecStart')!).replaceAll('%H', HOST).split(/\s+/);
    await runWorker(argv, ping(option(argv, '-n')!), Number(service.get('TimeoutStopSec')) * 1000);
  }, 60_000);
});

describe('docs/deploy.md: supervisor', () => {
  const programs = ini(file('/etc/supervisor/conf.d/nori.conf'));

  it('stops with TERM, waits longer than the shutdown timeout, kills the group, names each process', () => {
    for (const name of ['program:nori-worker', 'program:nori-beat']) {
      const p = section(programs, name);
      const argv = p.get('command')!.split(/\s+/);
      expect({ name, bin: argv[0], dir: p.get('directory'), signal: p.get('stopsignal'), group: p.get('killasgroup'), restart: p.get('autorestart') }).toEqual({
        name,
        bin: `${APP_DIR}/node_modules/.bin/nori`,
        dir: APP_DIR,
        signal: 'TERM',
        group: 'true',
        restart: 'true',
      });
      if (argv[1] !== 'worker') continue;
      expect(Number(p.get('stopwaitsecs')) * 1000).toBeGreaterThanOrEqual(shutdownTimeout(argv) + CLOSE_MS);
      // Several processes of one program need distinct process and node names.
      if (Number(p.get('numprocs') ?? 1) > 1) {
        expect(p.get('process_name')).toContain('%(process_num)');
        expect(option(argv, '-n')).toContain('%(process_num)');
      }
    }
  });

  it('the worker of [program:nori-worker] answers its ping, and SIGTERM ends it with 0 in time', async () => {
    const p = section(programs, 'program:nori-worker');
    const argv = mapped(p.get('command')!).replace('%(process_num)d', '0').replace('%(host_node_name)s', HOST).split(/\s+/);
    await runWorker(argv, ping(option(argv, '-n')!), Number(p.get('stopwaitsecs')) * 1000);
  }, 60_000);
});

/** Dockerfile instructions, continuation lines joined: [instruction, arguments]. */
const dockerfile = file('Dockerfile')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => [l.split(/\s/, 1)[0]!.toUpperCase(), l.slice(l.indexOf(' ') + 1).trim()] as const);
const instruction = (name: string): string | undefined => dockerfile.findLast(([i]) => i === name)?.[1];
const execForm = (name: string): string[] => JSON.parse(instruction(name)!) as string[];

describe('docs/deploy.md: Docker', () => {
  it('an LTS Node image, npm ci, a user that is not root, exec-form ENTRYPOINT and CMD running the bin, SIGTERM', () => {
    expect(instruction('FROM')).toMatch(/^node:(\d+)-slim$/);
    expect(Number(/^node:(\d+)/.exec(instruction('FROM')!)![1]) % 2, 'an even (LTS) Node major').toBe(0);
    expect(dockerfile.some(([i, a]) => i === 'RUN' && a.startsWith('npm ci'))).toBe(true);
    expect(instruction('USER')).toMatch(/^(?!root$|0$)\w+/);
    expect(instruction('STOPSIGNAL')).toBe('SIGTERM');
    expect(execForm('ENTRYPOINT')).toEqual(['node_modules/.bin/nori']);
    expect(execForm('CMD')[0]).toBe('worker');
  });

  it('docker run waits longer than the shutdown timeout before SIGKILL', () => {
    const stopTimeout = /^docker run .*--stop-timeout (\d+)/m.exec(DOC);
    expect(stopTimeout, 'a docker run line with --stop-timeout').not.toBeNull();
    expect(Number(stopTimeout![1]) * 1000).toBeGreaterThanOrEqual(shutdownTimeout(execForm('CMD')) + CLOSE_MS);
  });

  it("the image's command (ENTRYPOINT + CMD in WORKDIR) answers a ping, and docker stop (SIGTERM) ends it with 0 in time", async () => {
    expect(instruction('WORKDIR')).toBe('/app');
    const argv = [...execForm('ENTRYPOINT'), ...execForm('CMD'), '-n', `worker@${HOST}`];
    argv[0] = join(dir, argv[0]!);
    await runWorker(argv, ping(`worker@${HOST}`), Number(/--stop-timeout (\d+)/.exec(DOC)![1]) * 1000);
  }, 60_000);
});

interface Container {
  args: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  livenessProbe: { exec: { command: string[] }; timeoutSeconds: number };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown> & {
    selector?: { matchLabels: Record<string, string> };
    template?: { metadata: { labels: Record<string, string> }; spec: { terminationGracePeriodSeconds: number; containers: Container[] } };
    scaleTargetRef?: { name: string };
    triggers?: { type: string; metadata: Record<string, string> }[];
  };
}

describe('docs/deploy.md: Kubernetes', () => {
  const manifests = loadAll(file('k8s/nori-worker.yaml')) as Manifest[];
  const deployment = manifests.find((m) => m.kind === 'Deployment')!;
  const scaled = manifests.find((m) => m.kind === 'ScaledObject')!;
  const pod = deployment.spec.template!;
  const container = pod.spec.containers[0]!;

  it('a Deployment whose grace period outlasts the shutdown timeout, node names from the pod name', () => {
    expect(deployment.apiVersion).toBe('apps/v1');
    expect(pod.metadata.labels).toMatchObject(deployment.spec.selector!.matchLabels);
    expect(container.args[0]).toBe('worker');
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(shutdownTimeout(container.args) + CLOSE_MS);
    expect(option(container.args, '-n')).toBe('worker@$(POD_NAME)');
    expect(container.env.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });

  it('the liveness probe pings that node name; KEDA scales the Deployment on the length of the queue it consumes', () => {
    const probe = container.livenessProbe.exec.command;
    expect(probe.slice(0, 2)).toEqual(['sh', '-c']);
    expect(probe[2]).toMatch(/^exec node_modules\/\.bin\/nori inspect ping -A \.\/app\.js -d "worker@\$POD_NAME" -t (\d+)s$/);
    expect(Number(/-t (\d+)s/.exec(probe[2]!)![1])).toBeLessThan(container.livenessProbe.timeoutSeconds);
    expect(scaled.apiVersion).toBe('keda.sh/v1alpha1');
    expect(scaled.spec.scaleTargetRef!.name).toBe(deployment.metadata.name);
    const trigger = scaled.spec.triggers![0]!;
    expect(trigger.type).toBe('redis');
    expect(trigger.metadata['listName']).toBe(option(container.args, '-Q') ?? 'celery');
  });

  it("the container (the image's ENTRYPOINT with these args) passes its liveness probe, a pod stop (SIGTERM) ends it with 0 in time, then the probe fails", async () => {
    const podName = `nori-worker-${HOST}`;
    const env = { ...ENV, POD_NAME: podName };
    const argv = [join(dir, execForm('ENTRYPOINT')[0]!), ...container.args.map((a) => a.replaceAll('$(POD_NAME)', podName))];
    await runWorker(argv, container.livenessProbe.exec.command, pod.spec.terminationGracePeriodSeconds * 1000, { env, probeAfterStop: true });
  }, 60_000);
});
