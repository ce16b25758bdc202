/**
 * MongoDB failures → nori's error classes (the store's `classifyError`). A server error is a refusal
 * of its own (`BrokerRefusedError`, with the server's message), except bad credentials
 * (`AuthenticationError`) and the errors a failover gives for a moment (retryable: the driver
 * labels them, or they name a primary stepping down). Everything else (network, server selection,
 * a closed client) is connection loss: `ConnectionError`.
 */
import { MongoServerError } from 'mongodb';
import { AuthenticationError, BrokerRefusedError, ConnectionError } from '@nori/core';

/** AuthenticationFailed, Unauthorized. */
const CREDENTIALS = new Set([18, 13]);
/** The server is failing over or shutting down: NotWritablePrimary and its kin, ShutdownInProgress, ... */
const TRANSIENT = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

export function classifyMongoError(error: unknown, operation: string): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  if (e instanceof MongoServerError) {
    const code = typeof e.code === 'number' ? e.code : undefined;
    if (code !== undefined && CREDENTIALS.has(code)) return new AuthenticationError(`mongodb ${operation} refused the credentials: ${e.message}`, { cause: e });
    const transient = (code !== undefined && TRANSIENT.has(code)) || e.hasErrorLabel('RetryableWriteError') || e.hasErrorLabel('TransientTransactionError');
    if (!transient) return new BrokerRefusedError(`mongodb ${operation} refused by the server: ${e.message}`, { cause: e });
  }
  return new ConnectionError(`mongodb ${operation} failed: ${e.message}`, { cause: e });
}
