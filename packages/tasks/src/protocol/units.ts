/**
 * Celery's units, spelled once: the wire carries seconds (floats) where nori's API speaks
 * milliseconds; conversions happen here and only at the wire edge.
 */

/** Ms as Celery's seconds. */
export const toSeconds = (ms: number): number => ms / 1000;

/** Celery's seconds as ms. */
export const fromSeconds = (seconds: number): number => seconds * 1000;

/** Ms as seconds, or null (Celery's None) when there is no value. */
export const secondsOrNull = (ms: number | undefined): number | null => (ms === undefined ? null : ms / 1000);

/** A wire value in seconds as ms; undefined when absent (null, undefined). */
export const msOrUndefined = (seconds: unknown): number | undefined => (seconds === null || seconds === undefined ? undefined : Number(seconds) * 1000);

/** UNIX time in seconds (Python's `time.time()`), of `ms` since the epoch or now. */
export const unixSeconds = (ms: number = Date.now()): number => ms / 1000;
