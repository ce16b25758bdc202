// CommonJS: require('@nori/tasks'), send a task by name to the worker that the installed `nori`
// bin runs, and wait for its result.
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- require() is what this file checks */
const { App } = require('@nori/tasks');
const options = require('./tasks-options.cjs');

async function main() {
  const app = new App(options);
  try {
    const result = await app.sendTask('check.add', [2, 3]);
    const value = await result.get({ timeout: 15_000 });
    if (value !== 5) throw new Error(`check.add(2, 3) returned ${JSON.stringify(value)}`);
    console.log(`ok: require('@nori/tasks') sent check.add(2, 3) as task ${result.id}, the worker returned ${value}`);
  } finally {
    await app.close();
  }
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
