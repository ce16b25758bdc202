/**
 * A Redis that speaks only TLS, for the `rediss://` tests: a self-signed certificate for
 * 127.0.0.1 made with openssl, and a redis-server on a free port with `--port 0 --tls-port`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = 26_000 + Math.floor(Math.random() * 1_000);
export const tlsUrl = `rediss://:tls-secret@127.0.0.1:${port}/0`;

let dir: string | undefined;
let server: ChildProcess | undefined;

/** Starts the server; returns the certificate to trust (PEM). */
export async function startTlsRedis(): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'nori-tls-'));
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const args = ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', cert, '--tls-key-file', key];
  server = spawn('redis-server', [...args, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--requirepass', 'tls-secret', '--save', '', '--dir', dir], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const pong = execFileSync('redis-cli', ['-p', String(port), '--tls', '--cacert', cert, '-a', 'tls-secret', '--no-auth-warning', 'ping'], {
        encoding: 'utf8',
      });
      if (pong.includes('PONG')) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('TLS redis-server did not come up');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return readFileSync(cert, 'utf8');
}

export async function stopTlsRedis(): Promise<void> {
  server?.kill('SIGKILL');
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}
