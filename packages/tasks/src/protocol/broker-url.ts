/**
 * What a broker or result URL names, by its scheme: one list for the whole task layer (result
 * backends, chord counting, once-locks, beat, the event exchange's type).
 */

/** The schemes @nori/redis serves. */
export const REDIS_SCHEMES: ReadonlySet<string> = new Set(['redis', 'rediss', 'redis+socket', 'redis+cluster', 'sentinel']);

/** The scheme of a URL, lowercased (the whole text when it has no `://`). */
export function urlScheme(url: string): string {
  const at = url.indexOf('://');
  return (at === -1 ? url : url.slice(0, at)).toLowerCase();
}

/** A Redis server, Sentinel or Cluster URL. */
export function isRedisUrl(url: string | undefined): url is string {
  return url !== undefined && REDIS_SCHEMES.has(urlScheme(url));
}

/** A MongoDB URL (result backend, beat's store). */
export function isMongoUrl(url: string | undefined): url is string {
  return url !== undefined && (urlScheme(url) === 'mongodb' || urlScheme(url) === 'mongodb+srv');
}

/** A Redis Cluster URL: keys of one operation must share a hash slot there. */
export function isRedisClusterUrl(url: string | undefined): boolean {
  return url !== undefined && urlScheme(url) === 'redis+cluster';
}

/** The first URL of a broker setting (a failover list or one URL). */
export function firstUrl(urls: string | readonly string[]): string | undefined {
  return typeof urls === 'string' ? urls : urls[0];
}
