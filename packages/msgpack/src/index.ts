/** @nori/msgpack: importing it registers 'msgpack' (application/x-msgpack) and 'msgpack-records'. */
import { registerSerializer } from '@nori/core';
import { msgpack, msgpackRecords } from './msgpack.js';

export function registerMsgpack(): void {
  registerSerializer(msgpack);
  registerSerializer(msgpackRecords);
}

registerMsgpack();

export { msgpack, msgpackRecords };
