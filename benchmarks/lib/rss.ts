/**
 * Resident memory of a worker and of the processes it forked (Celery's prefork pool), read from
 * /proc: the memory column of the task benchmarks. A sum of RSS counts pages that forked
 * processes share once per process, so a prefork figure overstates what the pool adds.
 */
import { readdirSync, readFileSync } from 'node:fs';

function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

/** The parent of each running process. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (in parentheses) may hold spaces: the fields after it are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(entry), ppid);
    } catch {
      // Gone between the listing and the read.
    }
  }
  return map;
}

/** RSS in bytes of `pid` and every process under it. */
export function treeRss(pid: number): number {
  const ppids = parents();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of ppids) if (parent === tree[i]) tree.push(child);
  return tree.reduce((sum, p) => sum + rssOf(p), 0);
}
