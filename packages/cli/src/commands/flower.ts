/** `nori flower`: the monitoring server (Flower's API, /metrics, the live page) until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import type { AppSource } from '../load-app.js';
import { startFlower } from '../flower/server.js';
import { int, list } from '../parse.js';
import { withApp } from '../with-app.js';

interface FlowerCliOptions extends AppSource {
  port: number;
  address: string;
  basicAuth?: string[];
  readOnly?: boolean;
  inspectTimeout: number;
  maxTasks: number;
}

export function registerFlower(program: Command): void {
  program
    .command('flower')
    .description("monitoring server: Flower's HTTP API, Prometheus /metrics and a live web page")
    .option('-p, --port <port>', 'port (0: any free port)', int('--port'), 5555)
    .option('--address <host>', 'address to listen on', '127.0.0.1')
    .option('--basic-auth <user:password,...>', 'require HTTP basic auth with one of these pairs', list)
    .option('--read-only', 'refuse everything that changes something (send, revoke, limits)')
    .option('--inspect-timeout <ms>', 'how long /api/workers waits for workers', int('--inspect-timeout', 1), 1000)
    .option('--max-tasks <n>', 'tasks kept in memory', int('--max-tasks', 1), 10_000)
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<FlowerCliOptions>();
      await withApp(o, async (app) => {
        const server = await startFlower(app, {
          port: o.port,
          host: o.address,
          basicAuth: o.basicAuth,
          readOnly: o.readOnly,
          inspectTimeout: o.inspectTimeout,
          maxTasks: o.maxTasks,
        });
        process.stderr.write(`nori flower on ${server.url}${o.readOnly ? ' (read-only)' : ''}\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      });
    });
}
