/**
 * application/x-msgpack via msgpackr. The default is standard MessagePack (no record extension),
 * which Python's msgpack (and so kombu) reads: Date goes as the timestamp extension (-1),
 * Uint8Array/Buffer as bin. The `msgpack-records` serializer turns msgpackr's record extension on
 * (faster and smaller for repeated object shapes) under its own content type, because only
 * msgpackr can read it.
 */
import { Packr } from 'msgpackr';
import { DecodeError, EncodeError, type Serializer } from '@nori/core';

function create(name: string, contentType: string, packr: Packr): Serializer {
  // msgpackr writes functions as nil unless told otherwise: refuse them, as JSON does.
  (packr as Packr & { writeFunction?: () => never }).writeFunction = () => {
    throw new EncodeError('cannot serialize a function as MessagePack');
  };
  return {
    name,
    contentType,
    contentEncoding: 'binary',
    encode(body) {
      try {
        return packr.pack(body);
      } catch (error) {
        if (error instanceof EncodeError) throw error;
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

export const msgpack: Serializer = create(
  'msgpack',
  'application/x-msgpack',
  new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' }),
);

/** nori-only: msgpackr's record extension. Python cannot read it. */
export const msgpackRecords: Serializer = create('msgpack-records', 'application/x-nori-msgpack-records', new Packr({ useRecords: true, mapsAsObjects: true }));
