/**
 * Errors of the `nori` command and its monitoring server, one class per reason, each with a stable
 * `code`: NoriErrors (so `instanceof NoriError` holds) with codes of their own. The bin prints
 * them as one line (no stack), since each message says what failed and what to do.
 */
import { NoriError } from '@nori/core';

export type CliErrorCode = 'ERR_NORI_USAGE' | 'ERR_NORI_HTTP' | 'ERR_NORI_SEARCH_QUERY' | 'ERR_NORI_LISTEN' | 'ERR_NORI_PYTHON_APP' | 'ERR_NORI_BEAT_ENTRY';

export abstract class CliError extends NoriError<CliErrorCode> {}

/** A mistake in the command line: exit code 2. */
export class UsageError extends CliError {
  readonly code = 'ERR_NORI_USAGE';
}

/** The monitoring server refuses a request: answered with `status` and the message. */
export class HttpError extends CliError {
  readonly code = 'ERR_NORI_HTTP';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A task search the dashboard cannot read (Flower's QuerySyntaxError): answered 400. */
export class SearchQueryError extends CliError {
  readonly code = 'ERR_NORI_SEARCH_QUERY';
}

/** The monitoring server cannot listen on its address (port in use, address not on this machine). */
export class ListenError extends CliError {
  readonly code = 'ERR_NORI_LISTEN';
}

/** `nori types` could not read a Python Celery app's tasks (no interpreter, or the import failed). */
export class PythonAppError extends CliError {
  readonly code = 'ERR_NORI_PYTHON_APP';
}

/** `nori beat rm|enable|disable` named an entry the store does not have: exit code 1. */
export class BeatEntryNotFoundError extends CliError {
  readonly code = 'ERR_NORI_BEAT_ENTRY';
}
