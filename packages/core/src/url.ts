/**
 * Broker URLs the way kombu reads them: `scheme://user:password@host:port/virtual_host?options`.
 * User and password are percent-decoded; the virtual host is the path without its first '/',
 * so `amqp://h//` is vhost '/' and `amqp://h/` (or no path) leaves it unset.
 */
import { UrlError } from './errors.js';

export interface BrokerUrl {
  /** Lower-case scheme without '://', e.g. 'redis', 'amqp', 'redis+socket'. */
  readonly scheme: string;
  readonly hostname: string | undefined;
  readonly port: number | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Path without its first '/', percent-decoded; undefined when empty. */
  readonly virtualHost: string | undefined;
  /** For socket schemes (`redis+socket:///path`): the full path. */
  readonly path: string | undefined;
  readonly query: Readonly<Record<string, string>>;
  /** The URL as given; may contain the password, never log it. Use `masked`. */
  readonly href: string;
  /** The URL with the password replaced by `**`. */
  readonly masked: string;
}

const URL_RE = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?(\/[^?#]*)?(?:\?([^#]*))?(?:#.*)?$/i;

/** Replace the password in anything that looks like a URL with `**`. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:**@');
}

function decode(part: string, what: string, url: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new UrlError(`malformed broker URL ${maskUrl(url)}: bad percent-encoding in ${what}`);
  }
}

export function parseUrl(url: string): BrokerUrl {
  if (typeof url !== 'string' || url.trim() === '') throw new UrlError('broker URL is empty');
  const text = url.trim();
  const m = URL_RE.exec(text);
  if (!m) {
    throw new UrlError(`malformed broker URL ${maskUrl(text)}: expected scheme://[user:password@]host[:port][/vhost][?options]`);
  }
  const [, scheme = '', auth, host = '', portText, pathText, queryText] = m;
  let username: string | undefined;
  let password: string | undefined;
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    username = decode(colon === -1 ? auth : auth.slice(0, colon), 'user', text) || undefined;
    password = colon === -1 ? undefined : decode(auth.slice(colon + 1), 'password', text);
  }
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new UrlError(`malformed broker URL ${maskUrl(text)}: port "${portText}" is not a number from 1 to 65535`);
    }
    port = Number(portText);
  }
  const query: Record<string, string> = {};
  if (queryText) {
    for (const [key, value] of new URLSearchParams(queryText)) query[key] = value;
  }
  const rawPath = pathText ?? '';
  const vhost = rawPath.length > 1 ? decode(rawPath.slice(1), 'virtual host', text) : undefined;
  const hostname = host === '' ? undefined : host.replace(/^\[(.*)\]$/, '$1');
  return {
    scheme: scheme.toLowerCase(),
    hostname: hostname === undefined ? undefined : decode(hostname, 'host', text),
    port,
    username,
    password,
    virtualHost: vhost,
    path: rawPath === '' ? undefined : decode(rawPath, 'path', text),
    query,
    href: text,
    masked: maskUrl(text),
  };
}

/** A failover list: `'a;b'`, or an array of URLs (each may itself hold `;`). */
export function parseUrls(urls: string | readonly string[]): BrokerUrl[] {
  const list = (typeof urls === 'string' ? [urls] : urls).flatMap((u) => u.split(';')).map((u) => u.trim()).filter((u) => u !== '');
  if (list.length === 0) throw new UrlError('no broker URL given');
  return list.map(parseUrl);
}
