/**
 * application/x-yaml via js-yaml with its default (safe) schema, like kombu's safe_load/safe_dump:
 * timestamps become Date, !!binary becomes Uint8Array, and a tag that would construct code or an
 * arbitrary object (!!python/object, !!js/function, ...) is refused with a DecodeError.
 */
import yaml from 'js-yaml';
import { DecodeError, EncodeError, type Serializer } from '@nori/core';

const decoder = new TextDecoder('utf-8', { fatal: true });

export const yamlSerializer: Serializer = {
  name: 'yaml',
  contentType: 'application/x-yaml',
  contentEncoding: 'utf-8',
  encode(body) {
    try {
      return Buffer.from(yaml.dump(body, { schema: yaml.DEFAULT_SCHEMA, noRefs: true }), 'utf8');
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
      return yaml.load(text, { schema: yaml.DEFAULT_SCHEMA });
    } catch (error) {
      throw new DecodeError(`invalid or unsafe YAML body: ${(error as Error).message}`, { cause: error });
    }
  },
};
