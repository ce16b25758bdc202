/**
 * The certificates whose signatures a consumer trusts (Celery's `security_cert_store`), by id.
 * Like Celery's FSCertStore it refuses an expired or duplicate certificate when loading.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, SignatureError } from '@nori/core';
import { Certificate } from './certificate.js';

export class CertStore {
  readonly #certs = new Map<string, Certificate>();

  constructor(certificates: Iterable<string | Uint8Array | Certificate> = []) {
    for (const c of certificates) this.add(c instanceof Certificate ? c : new Certificate(c));
  }

  /** Every file of a directory, or one PEM file (Celery also takes a glob; here list the files yourself). */
  static fromPath(path: string): CertStore {
    const files = statSync(path).isDirectory()
      ? readdirSync(path)
          .sort()
          .map((name) => join(path, name))
      : [path];
    return new CertStore(files.map((file) => readFileSync(file)));
  }

  add(cert: Certificate): void {
    if (cert.hasExpired()) throw new InvalidArgumentError(`expired certificate: "${cert.id}" (valid to ${cert.validTo.toISOString()})`);
    if (this.#certs.has(cert.id)) throw new InvalidArgumentError(`duplicate certificate: "${cert.id}"`);
    this.#certs.set(cert.id, cert);
  }

  /** The certificate of a signer; `SignatureError` when the store does not hold it. */
  get(id: string): Certificate {
    const cert = this.#certs.get(id);
    if (!cert) throw new SignatureError(`unknown signer: no certificate "${id}" in the store`);
    return cert;
  }

  certificates(): Certificate[] {
    return [...this.#certs.values()];
  }
}
