/**
 * A module's URL as built JavaScript, for code that runs it in a worker thread. On Node 20 a worker
 * thread gets none of its parent's loader hooks, so it cannot load TypeScript: when the caller runs
 * from sources (this repository's tests, `src/*.ts`), the thread loads the `dist/` twin that
 * `tsc -b` writes. Published packages run `dist/` already and pass through unchanged.
 */
export function builtModule(url: string): string {
  const src = url.lastIndexOf('/src/');
  if (!url.endsWith('.ts') || src < 0) return url;
  return `${url.slice(0, src)}/dist/${url.slice(src + '/src/'.length, -'.ts'.length)}.js`;
}
