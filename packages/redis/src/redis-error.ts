/**
 * Redis failures → nori's error classes (the store's `classifyError`). A reply from the server is
 * refused for a reason of its own (WRONGTYPE, OOM, ...): `BrokerRefusedError` with that reason in
 * the message, except bad credentials (`AuthenticationError`) and the replies a failover or a
 * restart gives for a moment (retryable, so `ConnectionError`). Anything that is not a server
 * reply (socket closed, ECONNREFUSED, timeouts, ioredis giving up) is network loss: `ConnectionError`.
 */
import { AuthenticationError, BrokerRefusedError, ConnectionError } from '@nori/core';

/** Replies that mean "not now" rather than "never": the server is loading, failing over or busy. */
const TRANSIENT = /^(LOADING|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|BUSY|NOREPLICAS|MOVED|ASK)\b/;
const CREDENTIALS = /^(WRONGPASS|NOAUTH|NOPERM)\b/;

/** The server's own error text, or undefined when the failure is not a reply of the server. */
function serverReason(error: Error): string | undefined {
  if (error.name !== 'ReplyError') return undefined;
  // A transaction the server discarded: the reason is the queued command's error, not EXECABORT.
  const previous = (error as Error & { previousErrors?: Error[] }).previousErrors?.[0];
  return previous && previous !== error ? previous.message : error.message;
}

export function classifyRedisError(error: unknown, operation: string): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  const reason = serverReason(e);
  if (reason === undefined || TRANSIENT.test(reason)) return new ConnectionError(`redis ${operation} failed: ${reason ?? e.message}`, { cause: e });
  if (CREDENTIALS.test(reason)) return new AuthenticationError(`redis ${operation} refused the credentials: ${reason}`, { cause: e });
  return new BrokerRefusedError(`redis ${operation} refused by the server: ${reason}`, { cause: e });
}
