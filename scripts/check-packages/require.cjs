// CommonJS: require() of the ESM packages (Node >= 20.19 loads ESM with require by default).
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- require() is what this file checks */
const { randomUUID } = require('node:crypto');
const { Connection, Queue, UrlError } = require('@nori/core');

async function main() {
  if (typeof UrlError !== 'function') throw new Error('require("@nori/core") has no UrlError export');
  const conn = new Connection(process.argv[2]);
  const queue = new Queue(`check-packages-cjs-${randomUUID()}`);
  try {
    const inbox = conn.simpleQueue(queue);
    await inbox.put({ from: 'require' });
    const message = await inbox.get({ timeout: 5000 });
    await message.ack();
    if (message.body.from !== 'require') throw new Error(`unexpected body ${JSON.stringify(message.body)}`);
    console.log(`ok: require('@nori/core') published and consumed over ${conn.info().transport}`);
  } finally {
    await conn.deleteQueue(queue).catch(() => undefined);
    await conn.close();
  }
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
