// Imports every entry point in an installed package's exports map, as an application would.
// Usage: node load.mjs @nori/<name>
import { readFileSync } from 'node:fs';

const name = process.argv[2];
const manifest = JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8'));
for (const subpath of Object.keys(manifest.exports)) {
  const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
  const exported = Object.keys(await import(specifier));
  if (exported.length === 0) throw new Error(`${specifier} exports nothing`);
  console.log(`ok: import('${specifier}'): ${exported.length} exports`);
}
