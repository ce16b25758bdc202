// Codecs by name: `node codecs.mjs missing` expects the msgpack serializer to fail with the npm
// install command (the package is not installed yet); `node codecs.mjs installed` expects it to
// load by name after the install, with no import of @nori/msgpack.
import { Connection, SerializerNotInstalledError } from '@nori/core';

const conn = new Connection('memory://');
const inbox = conn.simpleQueue('codecs', { accept: ['msgpack'] });
try {
  await conn.producer({ serializer: 'msgpack' }).publish({ packed: true }, { routingKey: 'codecs', declare: [inbox.queue] });
  if (process.argv[2] === 'missing') throw new Error('publishing with msgpack worked without @nori/msgpack installed');
  const message = await inbox.get({ timeout: 2000 });
  if (message.contentType !== 'application/x-msgpack' || message.body.packed !== true) throw new Error('msgpack round trip failed');
  console.log('ok: serializer "msgpack" loaded @nori/msgpack by name');
} catch (error) {
  if (process.argv[2] !== 'missing' || !(error instanceof SerializerNotInstalledError) || !error.message.includes('npm install @nori/msgpack')) throw error;
  console.log(`ok: without @nori/msgpack: ${error.message}`);
} finally {
  await conn.close();
}
