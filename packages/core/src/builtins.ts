/** What `@nori/core` registers on import: the JSON and raw serializers, kombu's zlib codec and the memory transport. */
import { registerCompressor } from './compressor.js';
import { json, jsonPlain } from './json.js';
import { createMemoryStore } from './spi/memory/memory-store.js';
import { raw, text } from './raw.js';
import { registerSerializer } from './serializer.js';
import { registerTransport } from './spi/transports.js';
import { virtualTransport } from './spi/virtual/virtual-transport.js';
import { zlibCodec } from './zlib-codec.js';

registerSerializer(jsonPlain);
registerSerializer(json); // after json-plain: same content type, and 'json' is what decodes it
registerSerializer(raw);
registerSerializer(text);
registerCompressor(zlibCodec);
registerTransport(['memory'], virtualTransport(createMemoryStore));
