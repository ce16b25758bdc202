/**
 * Transport options → the MongoDB store's settings, validated: a value that is not what the option
 * takes is an InvalidArgumentError naming it, never NaN or a silent default.
 */
import { InvalidArgumentError } from '@nori/core';
import { numberOption, type TransportOptions } from '@nori/core/spi';

export interface MongoStoreSettings {
  /** Collections are `<prefix>.messages`, `.bindings`, `.queues`, `.exchanges`. */
  readonly collectionPrefix: string;
  /** Idle poll interval bounds, ms: the poll backs off from min to max while queues stay empty. */
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  /** Wake consumers through a change stream where the server has them. */
  readonly changeStreams: boolean;
}

export function mongoSettings(options: TransportOptions): MongoStoreSettings {
  const o = options.transportOptions;
  const prefix = o['collectionPrefix'] ?? 'nori';
  if (typeof prefix !== 'string' || prefix === '') throw new InvalidArgumentError(`collectionPrefix must be a non-empty string, got ${JSON.stringify(prefix)}`);
  const pollMinMs = numberOption(o, 'pollMinMs', 20, 1);
  const pollMaxMs = numberOption(o, 'pollMaxMs', Math.max(1000, pollMinMs), 1);
  if (pollMaxMs < pollMinMs) throw new InvalidArgumentError(`pollMaxMs (${pollMaxMs}) is below pollMinMs (${pollMinMs})`);
  return { collectionPrefix: prefix, pollMinMs, pollMaxMs, changeStreams: o['changeStreams'] !== false && o['changeStreams'] !== 'false' };
}
