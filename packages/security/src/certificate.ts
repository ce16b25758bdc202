/**
 * An X.509 certificate as Celery's security layer sees it (celery/security/certificate.py): its
 * id — the issuer's attribute values joined by spaces, a space, the serial number in decimal — names
 * the signer in every signed message, and its RSA public key verifies RSA-PSS signatures (MGF1 over
 * the same digest, salt as long as the key allows).
 */
import { constants, verify, X509Certificate } from 'node:crypto';
import { InvalidArgumentError, SignatureError } from '@nori/core';

/** RFC 2253 escapes in OpenSSL's printed names: `\,` and friends, and `\XX` for control bytes. */
function unescapeValue(value: string): string {
  return value.replace(/\\([0-9A-Fa-f]{2}|[^])/g, (_, e: string) => (e.length === 2 ? String.fromCharCode(parseInt(e, 16)) : e));
}

/** Node prints a name one attribute per line (`CN=x\nO=y`), multi-valued RDNs joined by ` + `. */
function issuerValues(printed: string): string {
  return printed
    .split('\n')
    .flatMap((rdn) => rdn.split(/(?<!\\) \+ /))
    .map((attribute) => unescapeValue(attribute.slice(attribute.indexOf('=') + 1)))
    .join(' ');
}

export class Certificate {
  /** Celery's `Certificate.get_id()`: how signed messages name their signer. */
  readonly id: string;
  /** Bytes of a signature made with this certificate's key (Celery reads `key_size >> 3`). */
  readonly signatureLength: number;
  /** When the certificate stops being valid. */
  readonly validTo: Date;
  readonly x509: X509Certificate;

  constructor(pem: string | Uint8Array) {
    try {
      this.x509 = new X509Certificate(pem);
    } catch (cause) {
      throw new InvalidArgumentError(`invalid certificate: ${(cause as Error).message}`, { cause });
    }
    this.id = `${issuerValues(this.x509.issuer)} ${BigInt(`0x${this.x509.serialNumber}`).toString()}`;
    const key = this.x509.publicKey;
    if (key.asymmetricKeyType !== 'rsa') {
      throw new InvalidArgumentError(
        `certificate "${this.id}" holds a ${key.asymmetricKeyType ?? 'non-RSA'} key; Celery's auth serializer signs with RSA only`,
      );
    }
    this.signatureLength = (key.asymmetricKeyDetails?.modulusLength ?? 0) >> 3;
    this.validTo = new Date(this.x509.validTo);
  }

  hasExpired(now = Date.now()): boolean {
    return now >= this.validTo.getTime();
  }

  /** Throws `SignatureError` unless `signature` is this certificate's key's signature of `data`. */
  verify(data: Uint8Array, signature: Uint8Array, digest: string): void {
    const ok = verify(
      digest,
      data,
      { key: this.x509.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
      signature,
    );
    if (!ok) throw new SignatureError(`bad signature: the body does not match the signature of "${this.id}"`);
  }
}
