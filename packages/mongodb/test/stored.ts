/** What MongoDB still holds of a queue (ready or leased): its documents in `nori.messages`. */
import { MongoClient } from 'mongodb';
import { mongoUrl } from './server.js';

export async function storedOf(queue: string): Promise<number> {
  const client = new MongoClient(mongoUrl);
  try {
    return await client.db().collection('nori.messages').countDocuments({ queue });
  } finally {
    await client.close();
  }
}
