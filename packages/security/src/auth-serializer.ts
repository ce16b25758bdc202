/**
 * Celery's `auth` serializer (celery/security/serialization.py, Celery 5.2): the body is first
 * serialized by an inner serializer (json by default), the serialized bytes are signed with RSA-PSS,
 * and the message carries base64 of `signer \0\1 signature \0\1 content_type \0\1 content_encoding
 * \0\1 body` under content type `application/data`. The signature covers the serialized body, so a
 * receiver verifies before it parses anything. Fields are found as Celery finds them: the signer up
 * to the first separator, then a signature as long as the signer's key; the body is everything after
 * the next two separators.
 */
import { constants, createPrivateKey, getHashes, KeyObject, sign } from 'node:crypto';
import { DecodeError, getSerializer, InvalidArgumentError, registerSerializer, type Serializer } from '@nori/core';
import type { CertStore } from './cert-store.js';
import { Certificate } from './certificate.js';

export const AUTH_CONTENT_TYPE = 'application/data';
const SEP = Buffer.from([0x00, 0x01]);

export interface AuthOptions {
  /** The PEM private key that signs (the contents of Celery's `security_key` file), or a KeyObject. */
  readonly key: string | Uint8Array | KeyObject;
  /** Passphrase of an encrypted PEM key. */
  readonly keyPassphrase?: string;
  /** The key's certificate (Celery's `security_certificate`): its id names the signer. */
  readonly certificate: string | Uint8Array | Certificate;
  /** Certificates whose signatures are trusted (Celery's `security_cert_store`). */
  readonly certStore: CertStore;
  /** Hash for the signature (Celery's `security_digest`); default 'sha256'. */
  readonly digest?: string;
  /** Serializer of the signed body; default 'json'. */
  readonly serializer?: string;
}

function privateKey(options: AuthOptions): KeyObject {
  const pem = options.key;
  if (pem instanceof KeyObject) return pem;
  try {
    return createPrivateKey({ key: Buffer.from(pem), format: 'pem', ...(options.keyPassphrase !== undefined && { passphrase: options.keyPassphrase }) });
  } catch (cause) {
    throw new InvalidArgumentError(`invalid private key: ${(cause as Error).message}`, { cause });
  }
}

/** Split `a \0\1 b \0\1 rest` into a, b and rest; undefined when a separator is missing. */
function splitTwo(data: Buffer): [Buffer, Buffer, Buffer] | undefined {
  const first = data.indexOf(SEP);
  const second = first < 0 ? -1 : data.indexOf(SEP, first + SEP.length);
  if (second < 0) return undefined;
  return [data.subarray(0, first), data.subarray(first + SEP.length, second), data.subarray(second + SEP.length)];
}

/** A serializer named 'auth' that signs what it encodes and verifies what it decodes. */
export function authSerializer(options: AuthOptions): Serializer {
  const digest = (options.digest ?? 'sha256').toLowerCase();
  if (!getHashes().includes(digest)) throw new InvalidArgumentError(`unknown digest "${options.digest}"`);
  const key = privateKey(options);
  const certificate = options.certificate instanceof Certificate ? options.certificate : new Certificate(options.certificate);
  if (!certificate.x509.checkPrivateKey(key)) throw new InvalidArgumentError(`the private key does not belong to certificate "${certificate.id}"`);
  const signer = Buffer.from(certificate.id);
  const innerName = options.serializer ?? 'json';
  const store = options.certStore;

  return {
    name: 'auth',
    contentType: AUTH_CONTENT_TYPE,
    contentEncoding: 'utf-8',
    encode(body) {
      const inner = getSerializer(innerName);
      const data = inner.encode(body);
      const signature = sign(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN });
      const fields = Buffer.concat([signer, SEP, signature, SEP, Buffer.from(inner.contentType), SEP, Buffer.from(inner.contentEncoding), SEP, data]);
      return Buffer.from(fields.toString('base64'), 'latin1');
    },
    decode(data) {
      const raw = Buffer.from(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'), 'base64');
      const end = raw.indexOf(SEP);
      if (end < 0) throw new DecodeError('not a signed message: no signer field');
      const cert = store.get(raw.subarray(0, end).toString('utf8'));
      const signatureStart = end + SEP.length;
      const signatureEnd = signatureStart + cert.signatureLength;
      const rest = raw.subarray(signatureEnd);
      const fields = rest.subarray(0, SEP.length).equals(SEP) ? splitTwo(rest.subarray(SEP.length)) : undefined;
      if (!fields) throw new DecodeError(`malformed signed message from "${cert.id}": expected signature, content type, content encoding and body`);
      const [contentType, , body] = fields;
      cert.verify(body, raw.subarray(signatureStart, signatureEnd), digest);
      const inner = getSerializer(contentType.toString('utf8'));
      if (inner.contentType === AUTH_CONTENT_TYPE) throw new DecodeError('a signed message cannot wrap another signed message');
      return inner.decode(body);
    },
  };
}

/** Register the 'auth' serializer (Celery's `app.setup_security()`): then `serializer: 'auth'` signs and `accept: ['auth']` verifies. */
export function registerAuth(options: AuthOptions): Serializer {
  const serializer = authSerializer(options);
  registerSerializer(serializer);
  return serializer;
}
