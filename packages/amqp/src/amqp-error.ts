/** amqplib's channel errors as nori's: 404 → NotFoundError, 406 → InvalidArgumentError, else ConnectionError. */
import { ConnectionError, InvalidArgumentError, NotFoundError } from '@nori/core';

export function amqpError(error: unknown, what: string): Error {
  const e = error as { code?: number; message?: string };
  const message = `${what}: ${e.message ?? String(error)}`;
  if (e.code === 404) return new NotFoundError(message, { cause: error });
  if (e.code === 406) return new InvalidArgumentError(message, { cause: error });
  return new ConnectionError(message, { cause: error });
}
