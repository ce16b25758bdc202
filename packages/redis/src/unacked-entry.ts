/**
 * kombu's in-flight entry, `[envelope, exchange, routing_key]` as JSON text, read from its end: the
 * two trailing strings are short, the envelope may be large or not JSON at all (a foreign peer's
 * item), and it comes back out byte for byte. Written by nori's claim script as
 * `[<item>,"",<queue as JSON>]` and by kombu with spaces after the commas.
 */
export interface UnackedEntry {
  /** The stored message text, exactly as it was popped. */
  readonly envelope: string;
  readonly exchange: string;
  readonly routingKey: string;
}

const SPACE = /\s/;

function skipSpace(text: string, i: number): number {
  while (i >= 0 && SPACE.test(text[i] as string)) i--;
  return i;
}

/** The JSON string that ends at `end` (its closing quote): [value, index of its opening quote]. */
function stringBefore(text: string, end: number): [string, number] | undefined {
  if (text[end] !== '"') return undefined;
  for (let i = end - 1; i >= 0; i--) {
    if (text[i] !== '"') continue;
    let slashes = 0;
    while (text[i - 1 - slashes] === '\\') slashes++;
    if (slashes % 2 === 0) {
      try {
        return [JSON.parse(text.slice(i, end + 1)) as string, i];
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function splitEntry(text: string): UnackedEntry | undefined {
  let i = skipSpace(text, text.length - 1);
  if (text[i] !== ']') return undefined;
  const key = stringBefore(text, skipSpace(text, i - 1));
  if (!key) return undefined;
  i = skipSpace(text, key[1] - 1);
  if (text[i] !== ',') return undefined;
  const exchange = stringBefore(text, skipSpace(text, i - 1));
  if (!exchange) return undefined;
  i = skipSpace(text, exchange[1] - 1);
  if (text[i] !== ',') return undefined;
  const open = text.indexOf('[');
  if (open < 0 || open >= i) return undefined;
  return { envelope: text.slice(open + 1, i), exchange: exchange[0], routingKey: key[0] };
}
