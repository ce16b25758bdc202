/**
 * Transport options → the MongoDB store's settings, validated: a value that is not what the option
 * takes is an InvalidArgumentError naming it, never NaN or a silent default.
 */
import { InvalidArgumentError } from '@nori/core';
import type { TransportOptions } from '@nori/core/spi';

export interface MongoStoreSettings {
  /** Collections are `<prefix>.messages`, `.bindings`, `.queues`, `.exchanges`. */
  readonly collectionPrefix: string;
  /** Idle poll interval bounds, ms: the poll backs off from min to max while queues stay empty. */
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  /** Wake consumers through a change stream where the server has them. */
  readonly changeStreams: boolean;
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number of ms, got ${JSON.stringify(value)}`);
  return n;
}

export function mongoSettings(options: TransportOptions): MongoStoreSettings {
  const o = options.transportOptions;
  const prefix = o['collectionPrefix'] ?? 'nori';
  if (typeof prefix !== 'string' || prefix === '') throw new InvalidArgumentError(`collectionPrefix must be a non-empty string, got ${JSON.stringify(prefix)}`);
  const pollMinMs = positive(o['pollMinMs'], 'pollMinMs', 20);
  const pollMaxMs = positive(o['pollMaxMs'], 'pollMaxMs', Math.max(1000, pollMinMs));
  if (pollMaxMs < pollMinMs) throw new InvalidArgumentError(`pollMaxMs (${pollMaxMs}) is below pollMinMs (${pollMinMs})`);
  return { collectionPrefix: prefix, pollMinMs, pollMaxMs, changeStreams: o['changeStreams'] !== false && o['changeStreams'] !== 'false' };
}
