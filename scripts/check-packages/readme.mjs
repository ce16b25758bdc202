// A package's page on the registry is its tarball's README.md and package.json.
//
//   node readme.mjs check <tarball> <repository checkout>
// The manifest points at the repository (repository, homepage, bugs, all the same repository);
// the README opens with `# <name>`, prose on what the package is for (no code), then `## Quick start`;
// every link and image is absolute (a relative one resolves on GitHub, not on the registry) or an
// anchor, and one into the repository names a file or directory that exists in the checkout.
//
//   node readme.mjs quickstart <README.md>
// Runs the code blocks of the Quick start section in order, in the working directory (a project
// where the packages are installed): ```sh with bash, ```js with node, ```ts type-checked (strict)
// and compiled by tsc (TSC, from the environment), then run. A block whose first line is a comment
// naming a file (`// app.mjs`) is saved under that name for the blocks after it to use. Whatever a
// block leaves running in the background (`nori worker ... &`) is stopped with SIGTERM after it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const REPOSITORY = 'https://github.com/nori-js/nori';
const [command, ...args] = process.argv.slice(2);

function fail(message) {
  console.error(`check:packages README: ${message}`);
  process.exit(1);
}

/** The `## Quick start` section's fenced blocks: [{ lang, code }]. */
function quickStartBlocks(markdown) {
  const section = /^## Quick start\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1] ?? '';
  return [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map(([, lang, code]) => ({ lang, code }));
}

function check(tarball, root) {
  const read = (file) => execFileSync('tar', ['-xzOf', tarball, `package/${file}`], { encoding: 'utf8' });
  const manifest = JSON.parse(read('package.json'));
  const { name } = manifest;
  const directory = `packages/${name.replace('@nori/', '')}`;
  const expected = {
    repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory },
    homepage: `${REPOSITORY}/tree/main/${directory}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
  };
  for (const [field, value] of Object.entries(expected))
    if (JSON.stringify(manifest[field]) !== JSON.stringify(value))
      fail(`${name}: package.json ${field} is ${JSON.stringify(manifest[field])}, expected ${JSON.stringify(value)}`);

  const readme = read('README.md');
  const opening = /^# (\S+)\n\n([\s\S]*?)\n## (.+)\n/.exec(readme);
  if (!opening || opening[1] !== name || !/^\w/.test(opening[2]) || opening[2].includes('```'))
    fail(`${name}: README.md does not open with "# ${name}" and prose on what the package is for`);
  if (opening[3] !== 'Quick start') fail(`${name}: the first section of README.md is "${opening[3]}", expected "Quick start" right after the opening`);
  if (quickStartBlocks(readme).length === 0) fail(`${name}: README.md's Quick start has no code block`);

  const prose = readme.replace(/^```[\s\S]*?^```$/gm, '');
  for (const [, target] of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (target.startsWith('#')) continue;
    if (!/^https?:\/\//.test(target)) fail(`${name}: README.md links to "${target}", which does not resolve on the registry: use ${REPOSITORY}/blob/main/...`);
    const inRepository = new RegExp(`^(?:${REPOSITORY}/(?:blob|tree)/main|https://raw\\.githubusercontent\\.com/nori-js/nori/main)/([^#?]+)`).exec(target);
    if (inRepository && !existsSync(join(root, inRepository[1])))
      fail(`${name}: README.md links to ${target}, but ${inRepository[1]} is not in the repository`);
  }
  console.log(`ok: ${name}: README opens with a Quick start, links absolute; repository ${REPOSITORY}`);
}

/** Runs a command in a process group of its own (setsid), and ends what it left in that group. */
function run(file, argv) {
  const result = spawnSync('setsid', argv, { encoding: 'utf8', timeout: 60_000 });
  try {
    process.kill(-result.pid, 'SIGTERM');
  } catch {
    // nothing left running
  }
  if (result.status !== 0) fail(`${file}: ${argv.join(' ')} exited with ${result.status ?? result.signal}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function quickstart(readmePath) {
  const readme = readFileSync(readmePath, 'utf8');
  const name = /^# (\S+)/.exec(readme)?.[1] ?? readmePath;
  const slug = name.replace('@nori/', '');
  let output = '';
  quickStartBlocks(readme).forEach(({ lang, code }, i) => {
    const named = /^\/\/ ([\w.-]+\.\w+)\n/.exec(code)?.[1];
    const extension = { js: 'mjs', ts: 'mts', sh: 'sh' }[lang];
    if (!extension) fail(`${name}: a \`\`\`${lang} block in the Quick start; only js, ts and sh run`);
    const file = named ?? `quickstart-${slug}-${i}.${extension}`;
    writeFileSync(file, code);
    if (named) return;
    if (lang === 'sh') output += run(file, ['bash', '-e', file]);
    else if (lang === 'js') output += run(file, [process.execPath, file]);
    else {
      const outDir = `quickstart-${slug}-out`;
      run(file, [
        process.env.TSC,
        '--strict',
        '--skipLibCheck',
        'false',
        '--module',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        '--outDir',
        outDir,
        file,
      ]);
      output += run(file, [process.execPath, join(outDir, file.replace(/\.mts$/, '.mjs'))]);
    }
  });
  console.log(`ok: ${name} Quick start, as written: ${output.trim().split('\n').slice(-3).join(' | ').slice(0, 200)}`);
}

if (command === 'check') check(args[0], args[1]);
else if (command === 'quickstart') quickstart(args[0]);
else fail(`usage: node readme.mjs check <tarball> <checkout> | quickstart <README.md>`);
