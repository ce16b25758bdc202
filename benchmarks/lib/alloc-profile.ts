/**
 * Bytes allocated while a piece of work runs, by V8's sampling heap profiler, counting objects the
 * collector already freed too: unlike a rate, allocation does not move with the machine's load.
 * The profile scripts (benchmarks/profile/*-alloc.ts) print it per task.
 */
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

export interface Allocations {
  total: number;
  /** Bytes by the frame that allocated (inlined callees count as their caller): `function | file:line`. */
  bySite: Map<string, number>;
  /** The same bytes by the innermost frame in packages/ above the allocating one: what each nori call costs in the libraries below it. */
  byNoriFrame: Map<string, number>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `work` under the sampling heap profiler; resolves with its result and what it allocated. */
export async function profileAllocations<T>(work: () => Promise<T>): Promise<{ result: T; allocations: Allocations }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  // Node 20's protocol takes these flags; its typings do not list them yet.
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as { samplingInterval: number });
  const result = await work();
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SampleNode } };
  session.disconnect();
  const allocations: Allocations = { total: 0, bySite: new Map(), byNoriFrame: new Map() };
  const walk = (node: SampleNode, noriFrame: string): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const place = url
      .replace(/^file:\/\//, '')
      .replace(root, '')
      .replace(/^.*\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '');
    const site = `${functionName || '(anonymous)'} | ${place ? `${place}:${lineNumber + 1}` : ''}`;
    const nori = place.startsWith('packages/') ? site : noriFrame;
    allocations.bySite.set(site, (allocations.bySite.get(site) ?? 0) + node.selfSize);
    allocations.byNoriFrame.set(nori, (allocations.byNoriFrame.get(nori) ?? 0) + node.selfSize);
    allocations.total += node.selfSize;
    for (const child of node.children) walk(child, nori);
  };
  walk(profile.head, '(no nori frame)');
  return { result, allocations };
}

/** The bytes in frames whose site includes `part` (e.g. `packages/tasks/`). */
export function bytesIn(allocations: Allocations, part: string): number {
  return [...allocations.bySite].filter(([site]) => site.includes(part)).reduce((sum, [, bytes]) => sum + bytes, 0);
}

/** Prints the `top` largest of `sites` as a table, bytes per task. */
export function printTopSites(heading: string, sites: Map<string, number>, tasks: number, top: number): void {
  console.log(`| # | B/task | ${heading} | where |`);
  console.log('|---|---|---|---|');
  [...sites]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([site, bytes], i) => console.log(`| ${i + 1} | ${Math.round(bytes / tasks)} | ${site} |`));
}
