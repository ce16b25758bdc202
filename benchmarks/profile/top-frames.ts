/**
 * The top frames of a V8 CPU profile (node --cpu-prof; `bench:tasks --cpu-prof dir` writes one per
 * nori worker) as a Markdown table: self time (samples in the frame itself) and total time (samples
 * with the frame anywhere on the stack, once per sample however deep it recurses), each as a share
 * of the samples in which the process was not idle. Frames are functions by name and place, paths
 * relative to the repository (a package under node_modules by its name).
 *   node --import tsx benchmarks/profile/top-frames.ts <file.cpuprofile> [--top 10]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printTable } from '../lib/harness.js';
import { numberArg } from '../lib/workload.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const file = process.argv[2];
if (!file || file.startsWith('--')) {
  console.error('usage: top-frames.ts <file.cpuprofile> [--top 10]');
  process.exit(2);
}
const TOP = numberArg('top', 10);
const root = fileURLToPath(new URL('../../', import.meta.url));

function where(url: string, line: number): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  const shown = modules >= 0 ? path.slice(modules + '/node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '') : path.replace(root, '');
  return `${shown}:${line + 1}`;
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const frame = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}\t${where(n.callFrame.url, n.callFrame.lineNumber)}`;

const self = new Map<string, number>();
const total = new Map<string, number>();
let busy = 0;
for (const id of profile.samples) {
  const leaf = byId.get(id) as ProfileNode;
  if (leaf.callFrame.functionName === '(idle)') continue;
  busy++;
  const key = frame(leaf);
  self.set(key, (self.get(key) ?? 0) + 1);
  const seen = new Set<string>();
  for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
    const k = frame(n);
    if (n.callFrame.functionName === '(root)' || seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + 1);
  }
}

const pct = (n: number): string => `${((n / busy) * 100).toFixed(1)}%`;
console.log(`${file}: ${profile.samples.length} samples, ${busy} not idle`);
printTable(
  ['#', 'self', 'total', 'function', 'where'],
  [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([key, n], i) => {
      const [name, place] = key.split('\t') as [string, string];
      return [String(i + 1), pct(n), pct(total.get(key) ?? 0), name, place];
    }),
);
