/**
 * application/x-yaml via js-yaml 5, read like kombu's PyYAML safe_load: the YAML 1.1 schema
 * (timestamps become Date, !!binary becomes Uint8Array, merge keys, `yes`/`no` booleans) and no
 * tag that would construct code or an arbitrary object (!!python/object, !!js/function, ...): those
 * are refused with a DecodeError. Written with js-yaml's dump schema, which quotes every string
 * that a YAML 1.1 or 1.2 reader could take for another type, so PyYAML reads back what was sent.
 */
import { DUMP_SCHEMA, dump, load, YAML11_SCHEMA } from 'js-yaml';
import { DecodeError, EncodeError, type Serializer } from '@nori/core';

const decoder = new TextDecoder('utf-8', { fatal: true });

export const yamlSerializer: Serializer = {
  name: 'yaml',
  contentType: 'application/x-yaml',
  contentEncoding: 'utf-8',
  encode(body) {
    try {
      return Buffer.from(dump(body, { schema: DUMP_SCHEMA, noRefs: true }), 'utf8');
    } catch (error) {
      throw new EncodeError(`cannot serialize body as YAML: ${(error as Error).message}`, { cause: error });
    }
  },
  decode(data) {
    let text: string;
    try {
      text = decoder.decode(data);
    } catch (cause) {
      throw new DecodeError('YAML body is not valid utf-8', { cause });
    }
    try {
      return load(text, { schema: YAML11_SCHEMA });
    } catch (error) {
      throw new DecodeError(`invalid or unsafe YAML body: ${(error as Error).message}`, { cause: error });
    }
  },
};
