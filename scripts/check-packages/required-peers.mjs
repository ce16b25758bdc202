// Prints the tarballs that `npm install` needs for one package outside the workspace: the package
// and, transitively, its @nori peers that are not optional (npm would fetch those from the
// registry, which does not have these builds). Usage: node required-peers.mjs <tarball dir> <package>
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const [dir, first] = process.argv.slice(2);
const tarball = (name) => {
  const file = readdirSync(dir).find((f) => f.startsWith(`nori-${name}-`) && f.endsWith('.tgz') && /^\d/.test(f.slice(`nori-${name}-`.length)));
  if (!file) throw new Error(`no tarball of @nori/${name} in ${dir}`);
  return join(dir, file);
};
const seen = new Set();
const visit = (name) => {
  if (seen.has(name)) return;
  seen.add(name);
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball(name), 'package/package.json'], { encoding: 'utf8' }));
  for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
    if (peer.startsWith('@nori/') && !manifest.peerDependenciesMeta?.[peer]?.optional) visit(peer.slice('@nori/'.length));
  }
};
visit(first);
console.log([...seen].map(tarball).join('\n'));
