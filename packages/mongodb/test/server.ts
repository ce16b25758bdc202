/**
 * The MongoDB the tests talk to: MONGODB_URI when set (a real server), else CongoDB, the embedded
 * wire-compatible server from @push.rocks/smartmongo, started in the test process on a free port.
 * CongoDB needs `serverMonitoringMode=poll` (its hello advertises streaming it cannot do) and
 * lacks TTL expiry and change streams; nori enforces expiry in its claim and polls, so neither is
 * needed for the suite.
 */
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';

const port = 20_000 + Math.floor(Math.random() * 10_000);
const external = process.env['MONGODB_URI'];

export const serverLabel = external ? 'MONGODB_URI' : 'CongoDB (@push.rocks/smartmongo 2.2.0, in-process)';
export const mongoUrl = external ?? `mongodb://127.0.0.1:${port}/nori_test?directConnection=true&serverMonitoringMode=poll`;
export const deadMongoUrl = 'mongodb://127.0.0.1:1/nori_test?directConnection=true&serverMonitoringMode=poll';

let server: CongoServer | undefined;

export async function startServer(): Promise<void> {
  if (external || server) return;
  server = new CongoServer({ port, host: '127.0.0.1' });
  await server.start();
}

export async function stopServer(): Promise<void> {
  await server?.stop();
  server = undefined;
}
