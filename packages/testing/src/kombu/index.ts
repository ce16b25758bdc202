/** Drive Debian's Python kombu 5.2 (/usr/bin/python3) from interop tests, for any broker URL. */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PYTHON = '/usr/bin/python3';
// The scripts ship in src/, found from src/ and from dist/ alike.
const script = (name: string): string => fileURLToPath(new URL(`../../src/kombu/${name}`, import.meta.url));

export interface KombuReceived {
  body: unknown;
  priority: number | null;
  headers: Record<string, unknown>;
  routing_key: string;
}

/** Publish with kombu; see kombu_publish.py for the spec. */
export async function kombuPublish(url: string, spec: object): Promise<void> {
  await run(PYTHON, [script('kombu_publish.py'), url, JSON.stringify(spec)], { timeout: 20_000 });
}

/** Start a kombu consumer; `ready` once it consumes, `result` with what it received. */
export function kombuConsume(url: string, spec: object): { ready: Promise<void>; result: Promise<KombuReceived[]> } {
  const child = spawn(PYTHON, [script('kombu_consume.py'), url, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady!: () => void;
  let failed!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failed = reject;
  });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) markReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<KombuReceived[]>((resolve, reject) =>
    child.on('exit', (code) => {
      if (code !== 0) {
        const error = new Error(`python consumer exited ${code}: ${err}`);
        failed(error);
        reject(error);
        return;
      }
      resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as KombuReceived[]);
    }),
  );
  return { ready, result };
}

/** Run kombu's visibility-timeout sweep (QoS.restore_visible) once; see kombu_sweep.py. */
export async function kombuSweep(url: string, visibilityTimeoutSeconds: number): Promise<void> {
  await run(PYTHON, [script('kombu_sweep.py'), url, String(visibilityTimeoutSeconds)], { timeout: 20_000 });
}

/** A kombu consumer holding one message unacked until `release()`; `tag` once it holds it. See kombu_hold.py. */
export function kombuHold(url: string, spec: object): { tag: Promise<string>; release: () => Promise<void> } {
  const child = spawn(PYTHON, [script('kombu_hold.py'), url, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tag = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const held = /^held (\S+)$/m.exec(out);
      if (held) resolve(held[1] as string);
    });
    void exited.then(() => reject(new Error(`python holder exited: ${err}`)));
  });
  const release = async (): Promise<void> => {
    child.stdin.end();
    await exited;
  };
  return { tag, release };
}
