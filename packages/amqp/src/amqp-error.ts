/**
 * amqplib's errors as nori's, so no raw amqplib error reaches a user: 403 ACCESS_REFUSED (bad
 * credentials at the handshake, or a user without access to the resource) → AuthenticationError,
 * 404 → NotFoundError, 406 → InvalidArgumentError, anything else → ConnectionError (retryable).
 */
import { AuthenticationError, ConnectionError, InvalidArgumentError, NoriError, NotFoundError } from '@nori/core';

/** The handshake refusal carries no code, only its text: "...: 403 (ACCESS-REFUSED) with message ...". */
const ACCESS_REFUSED = /\b403 \(ACCESS-REFUSED\)/;

/** The broker refused the login or the user's access. */
export function accessRefused(error: unknown): boolean {
  const e = error as { code?: number; message?: string };
  return e.code === 403 || ACCESS_REFUSED.test(e.message ?? '');
}

export function amqpError(error: unknown, what: string): Error {
  if (error instanceof NoriError) return error;
  const e = error as { code?: number; message?: string };
  const message = `${what}: ${e.message ?? String(error)}`;
  if (accessRefused(error)) return new AuthenticationError(message, { cause: error });
  if (e.code === 404) return new NotFoundError(message, { cause: error });
  if (e.code === 406) return new InvalidArgumentError(message, { cause: error });
  return new ConnectionError(message, { cause: error });
}
