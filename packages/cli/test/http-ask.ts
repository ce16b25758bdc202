/**
 * One HTTP request through node:http, answered whole: unlike fetch it sends the Host header it is
 * given (the dashboard's tests ask as foreign hosts and as a redirect URI's host) and any method.
 */
import { request, type IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function ask(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // Content-Length: node sends a GET's body without one (no chunked GETs), which the server cannot frame.
    const length = o.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(o.body)) };
    const r = request(url, { method: o.method ?? 'GET', headers: { ...length, ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    r.on('error', reject);
    r.end(o.body);
  });
}
