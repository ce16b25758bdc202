/**
 * Broker URLs the way kombu reads them: `scheme://user:password@host:port/virtual_host?options`.
 * User and password are percent-decoded; the virtual host is the path without its first '/',
 * so `amqp://h//` is vhost '/' and `amqp://h/` (or no path) leaves it unset.
 *
 * Passwords never leak: the user info ends at the URL's last '@', so a password with an unencoded
 * '#', '?', '/' or '@' is still masked, and such a URL is refused (it is ambiguous: every other
 * reader, kombu's included, would take part of the password for the host, port or path).
 */
import { UrlError } from './errors.js';

export interface HostPort {
  readonly hostname: string | undefined;
  readonly port: number | undefined;
}

export interface BrokerUrl {
  /** Lower-case scheme without '://', e.g. 'redis', 'amqp', 'redis+socket'. */
  readonly scheme: string;
  /** The first (for most schemes the only) host. */
  readonly hostname: string | undefined;
  readonly port: number | undefined;
  /** Every host of a seed list (`mongodb://h1:27017,h2:27017/`); one entry for other schemes. */
  readonly hosts: readonly HostPort[];
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

/** Schemes whose URL may list several hosts, separated by ',' (MongoDB's seed list). */
const SEED_LIST_SCHEMES = new Set(['mongodb']);

const SCHEME_RE = /^[a-z][a-z0-9+.-]*:\/\//i;
const URL_RE = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?(?:#[\s\S]*)?$/i;
const HOST_RE = /^(\[[^\]]*\]|[^:]*)(?::([\s\S]*))?$/;
/** A failover list separates URLs with ';', but only where the next URL's scheme follows, so a ';' inside a password stays in it. */
const LIST_SEPARATOR = /;(?=\s*[a-z][a-z0-9+.-]*:\/\/)/i;

/** Options that carry secrets (MongoDB's `authMechanismProperties=AWS_SESSION_TOKEN:...`, `tlsCertificateKeyFilePassword`, ...). */
const SECRET_OPTION = /password|secret|token|^authmechanismproperties$/i;

function maskUserInfo(url: string): string {
  const start = SCHEME_RE.exec(url)?.[0].length ?? 0;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  const colon = url.indexOf(':', start);
  if (colon === -1 || colon > at) return url; // a user name alone, no password
  return `${url.slice(0, colon)}:**${url.slice(at)}`;
}

function maskOptions(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const hash = url.indexOf('#', q);
  const end = hash === -1 ? url.length : hash;
  const options = url
    .slice(q + 1, end)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq !== -1 && SECRET_OPTION.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=**` : pair;
    });
  return `${url.slice(0, q + 1)}${options.join('&')}${url.slice(end)}`;
}

const maskOne = (url: string): string => maskOptions(maskUserInfo(url));

/**
 * Replace the password in a URL (or a ';' failover list) with `**`, and the values of options that
 * carry secrets. The user info is taken to end at the last '@', so an unencoded '@', '/', '?' or
 * '#' in the password cannot unmask it.
 */
export function maskUrl(url: string): string {
  return url.split(LIST_SEPARATOR).map(maskOne).join(';');
}

function decode(part: string, what: string, masked: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new UrlError(`malformed broker URL ${masked}: bad percent-encoding in ${what}`);
  }
}

function parsePort(text: string | undefined, masked: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new UrlError(`malformed broker URL ${masked}: port "${text}" is not a number from 1 to 65535`);
  }
  return Number(text);
}

function parseHost(text: string, masked: string): HostPort {
  const [, host = '', portText] = HOST_RE.exec(text) ?? [];
  const port = parsePort(portText, masked);
  const hostname = host === '' ? undefined : decode(host.replace(/^\[(.*)\]$/, '$1'), 'host', masked);
  return { hostname, port };
}

export function parseUrl(url: string): BrokerUrl {
  if (typeof url !== 'string' || url.trim() === '') throw new UrlError('broker URL is empty');
  const text = url.trim();
  const masked = maskUrl(text);
  const m = URL_RE.exec(text);
  if (!m) {
    throw new UrlError(`malformed broker URL ${masked}: expected scheme://[user:password@]host[:port][/vhost][?options]`);
  }
  const [, schemeText = '', auth, hostList = '', pathText, queryText] = m;
  const scheme = schemeText.toLowerCase();
  // The only '@' allowed is the one that ends the user info: any other means an unencoded
  // character in the user or password moved the split (checked before anything echoes a part).
  if (text.lastIndexOf('@') !== (auth === undefined ? -1 : scheme.length + 3 + auth.length)) {
    throw new UrlError(
      `malformed broker URL ${masked}: percent-encode '@', '/', '?', '#' and '%' in the user name and password (e.g. %40 for '@', %2F for '/')`,
    );
  }
  let username: string | undefined;
  let password: string | undefined;
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    username = decode(colon === -1 ? auth : auth.slice(0, colon), 'user', masked) || undefined;
    password = colon === -1 ? undefined : decode(auth.slice(colon + 1), 'password', masked);
  }
  const hostTexts = hostList.split(',');
  if (hostTexts.length > 1 && !SEED_LIST_SCHEMES.has(scheme)) {
    throw new UrlError(
      `malformed broker URL ${masked}: ${scheme}:// takes one host; a host list (h1,h2) is for mongodb:// seed lists, and failover URLs are separated by ';'`,
    );
  }
  const hosts = hostTexts.map((h) => parseHost(h, masked));
  if (hosts.length > 1 && hosts.some((h) => h.hostname === undefined)) {
    throw new UrlError(`malformed broker URL ${masked}: an empty host in the seed list`);
  }
  const query: Record<string, string> = {};
  if (queryText) {
    for (const [key, value] of new URLSearchParams(queryText)) query[key] = value;
  }
  const rawPath = pathText ?? '';
  const first = hosts[0] as HostPort;
  return {
    scheme,
    hostname: first.hostname,
    port: first.port,
    hosts,
    username,
    password,
    virtualHost: rawPath.length > 1 ? decode(rawPath.slice(1), 'virtual host', masked) : undefined,
    path: rawPath === '' ? undefined : decode(rawPath, 'path', masked),
    query,
    href: text,
    masked,
  };
}

/** A failover list: `'a;b'`, or an array of URLs (each may itself hold `;`). */
export function parseUrls(urls: string | readonly string[]): BrokerUrl[] {
  const list = (typeof urls === 'string' ? [urls] : urls)
    .flatMap((u) => u.split(LIST_SEPARATOR))
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (list.length === 0) throw new UrlError('no broker URL given');
  return list.map(parseUrl);
}
