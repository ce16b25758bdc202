/**
 * @nori/mongodb: `mongodb://` and `mongodb+srv://` for nori over the official driver, with leases
 * instead of delete-on-fetch. Importing it registers the schemes.
 */
import { registerTransport, virtualTransport } from '@nori/core/spi';
import { createMongoStore, mongoStoreModule } from './mongo-store.js';

registerTransport(['mongodb', 'mongodb+srv'], virtualTransport(createMongoStore, mongoStoreModule));

export { MongoStore, createMongoStore, MONGO_MAX_BODY_SIZE } from './mongo-store.js';
export { IdlePoll } from './idle-poll.js';
export { supportsChangeStreams, type WakeSource } from './change-wake.js';
export { createMongoClient } from './client.js';
