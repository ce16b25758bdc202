/**
 * Decompression that counts its output as it streams: input goes in slices, and the first chunk
 * that takes the total over the cap stops it, so a bomb never allocates its full output.
 * Any decoder with fflate's stream shape fits (fflate's inflaters, fzstd's Decompress).
 */
import { DecodeError, MessageTooLargeError } from '@nori/core';

export interface Stream {
  // A method signature (bivariant), so fflate's and fzstd's narrower handler types both fit.
  ondata(chunk: Uint8Array, final?: boolean): unknown;
  push(chunk: Uint8Array, final?: boolean): void;
}

/** Input per push: small enough that one push inflates to at most ~16 MB (deflate's ratio cap is ~1032). */
const SLICE = 16 * 1024;

export function streamed(name: string, stream: Stream, data: Uint8Array, max: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  stream.ondata = (chunk, final) => {
    total += chunk.length;
    if (total > max) throw new MessageTooLargeError(`${name}: decompressed body is over the limit of ${max} bytes`);
    chunks.push(chunk);
    if (final) ended = true;
  };
  try {
    for (let i = 0; i < data.length; i += SLICE) stream.push(data.subarray(i, i + SLICE), i + SLICE >= data.length);
    if (data.length === 0) stream.push(data, true);
  } catch (error) {
    if (error instanceof MessageTooLargeError) throw error;
    throw new DecodeError(`${name}: corrupt or truncated data (${(error as Error).message})`, { cause: error });
  }
  if (!ended) throw new DecodeError(`${name}: truncated data`);
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
