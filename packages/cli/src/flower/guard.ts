/**
 * What every request to the monitoring server must pass before a route runs, against DNS rebinding
 * and cross-site request forgery (a page the operator has open elsewhere posting to the server):
 * - `Host` is one of the server's own names (the address it listens on, localhost, this machine's
 *   name, and its addresses when it listens on all of them) or one given with --allowed-hosts
 *   ('*': any). A rebinding name reaches the server with its own name as Host, and is refused.
 * - A change (any method but GET and HEAD) comes from the same origin: `Sec-Fetch-Site` absent,
 *   same-origin or none, and `Origin` absent or the server's own. Scripts send neither header.
 * - A read from another site (`Sec-Fetch-Site` cross-site or same-site) is only a navigation (to a
 *   page, or the sign-in provider sending the browser back to /login).
 * - A JSON body is declared JSON: text/plain and form bodies are what a cross-site page can send
 *   without a preflight.
 */
import type { IncomingMessage } from 'node:http';
import { hostname as machineName, networkInterfaces } from 'node:os';
import { HttpError } from '../errors.js';

const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'];
const ALL_ADDRESSES = new Set(['0.0.0.0', '::', '']);

/** A name or address as compared: lower-case, no brackets around an IPv6 address, no final dot. */
const normal = (name: string): string =>
  name
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
    .replace(/\.$/, '');

/** The name of a Host header or URL host (`name:port`, `[v6]:port`), normalised. */
const nameOf = (host: string): string => normal(host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, ''));

export class RequestGuard {
  readonly #names: ReadonlySet<string>;
  readonly #configured: ReadonlySet<string>;
  readonly #anyHost: boolean;

  /** `listen`: the address the server listens on; `allowed`: names given by the operator ('*' for any). */
  constructor(listen: string, allowed: readonly string[] = []) {
    this.#anyHost = allowed.includes('*');
    this.#configured = new Set(allowed.filter((h) => h !== '*').map(normal));
    const own = [...LOCAL_NAMES, listen, machineName()];
    if (ALL_ADDRESSES.has(listen)) for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) own.push(a.address);
    this.#names = new Set([...own.map(normal), ...this.#configured]);
  }

  /** Refuses a request whose Host is not one of the server's names. */
  host(req: IncomingMessage): void {
    const host = req.headers.host;
    if (!host) throw new HttpError(400, 'Host header missing');
    if (this.#anyHost || this.#names.has(nameOf(host))) return;
    throw new HttpError(
      403,
      `Host "${nameOf(host)}" is not this server's name; if it is (a proxy, a DNS name), start nori flower with --allowed-hosts ${nameOf(host)}`,
    );
  }

  /** Refuses what another site's page asks for: any change, and reads other than navigating where it may. */
  origin(req: IncomingMessage, change: boolean, navigable: boolean): void {
    const site = req.headers['sec-fetch-site'];
    const crossSite = site !== undefined && site !== 'same-origin' && site !== 'none';
    if (!change) {
      if (crossSite && !(navigable && req.headers['sec-fetch-mode'] === 'navigate'))
        throw new HttpError(403, `Cross-site request refused (Sec-Fetch-Site: ${site})`);
      return;
    }
    if (crossSite) throw new HttpError(403, `Cross-site change refused (Sec-Fetch-Site: ${site})`);
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#ownOrigin(origin, req.headers.host ?? '')) throw new HttpError(403, `Cross-origin change refused (Origin: ${origin})`);
  }

  /** An Origin of the server itself: the request's own Host, or a name the operator configured (a proxy in front). */
  #ownOrigin(origin: string, host: string): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // 'null' (sandboxed frames, file: pages) and garbage
    }
    return url.host.toLowerCase() === host.toLowerCase() || this.#configured.has(nameOf(url.host));
  }

  /** Refuses a body that is not declared JSON (a missing type is accepted only with no body). */
  jsonBody(req: IncomingMessage, body: string): void {
    const type = req.headers['content-type'];
    if (type === undefined ? body.length === 0 : type.split(';')[0]!.trim().toLowerCase() === 'application/json') return;
    throw new HttpError(415, 'Send the body as JSON, with Content-Type: application/json');
  }
}
