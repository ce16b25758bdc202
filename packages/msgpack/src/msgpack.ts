/**
 * application/x-msgpack via msgpackr. The default is standard MessagePack (no record extension),
 * which Python's msgpack (and so kombu) reads: Date goes as the timestamp extension (-1),
 * Uint8Array/Buffer as bin. The `msgpack-records` serializer turns msgpackr's record extension on
 * (faster and smaller for repeated object shapes) under its own content type, because only
 * msgpackr can read it.
 */
import { Packr } from 'msgpackr';
import { DecodeError, EncodeError, type Serializer } from '@nori/core';

function hasFunction(value: unknown, depth = 0): boolean {
  if (typeof value === 'function' || typeof value === 'symbol') return true;
  if (depth > 64 || typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof Date) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (hasFunction(v, depth + 1)) return true;
  return false;
}

function create(name: string, contentType: string, packr: Packr): Serializer {
  return {
    name,
    contentType,
    contentEncoding: 'binary',
    encode(body) {
      // msgpackr quietly writes functions as nil: refuse them, as JSON does.
      if (hasFunction(body)) throw new EncodeError('cannot serialize a function or symbol as MessagePack');
      try {
        return packr.pack(body);
      } catch (error) {
        throw new EncodeError(`cannot serialize body as MessagePack: ${(error as Error).message}`, { cause: error });
      }
    },
    decode(data) {
      try {
        return packr.unpack(data);
      } catch (error) {
        throw new DecodeError(`invalid MessagePack body: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

export const msgpack: Serializer = create('msgpack', 'application/x-msgpack', new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' }));

/** nori-only: msgpackr's record extension. Python cannot read it. */
export const msgpackRecords: Serializer = create('msgpack-records', 'application/x-nori-msgpack-records', new Packr({ useRecords: true, mapsAsObjects: true }));
