/**
 * Passwords never leak from a broker URL, whatever characters they hold: generated passwords
 * (with `#`, `?`, `/`, `@`, `:`, `%`, `;`, spaces and non-ASCII), written raw or percent-encoded,
 * in the URL shapes users write. Accepted URLs show them masked in `masked` and `info()`; refused
 * ones never put them into the error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection, maskUrl, parseUrl, parseUrls, UrlError } from '@nori/core';

const SPECIAL = ['#', '?', '/', '@', ':', '%', ';', ' ', '&', '=', '[', ']', ',', '\\', 'é', '%4', '%zz', '//', '@h:1/'];
const password = fc
  .array(fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 8 })
  .map((parts) => `Q7${parts.join('')}x9`)
  // '*' is what masking writes; ';' + 'scheme://' starts the next URL of a failover list by definition.
  .filter((pw) => !pw.includes('*') && !/;\s*[a-z][a-z0-9+.-]*:\/\//i.test(pw));

/** URL shapes with the password written as is (`raw`) or percent-encoded. */
const shapes: Array<(pw: string) => string> = [
  (pw) => `redis://user:${pw}@h.example:6379/0`,
  (pw) => `redis://:${pw}@h.example`,
  (pw) => `amqp://guest:${pw}@rabbit:5672//?heartbeat=10`,
  (pw) => `redis://:1234/${pw}@h`,
  (pw) => `mongodb://app:${pw}@h1:27017,h2:27017/jobs?replicaSet=rs0`,
  (pw) => `mongodb+srv://app:${pw}@cluster0.example.net/jobs?retryWrites=true`,
  (pw) => `amqp://a:${pw}@one;amqp://b:${pw}@two`,
  (pw) => `user:${pw}@h:6379`,
];

/** The fixed text of nori's refusals (e.g. "%40 for '@'"): a password piece found there is no leak. */
const MESSAGE_TEXT = ['redis://u:p@ss@h', 'redis://u:p@h:x', 'redis://u:%zz@h', 'redis://h1,h2', 'u:p@h']
  .map((url) => {
    try {
      parseUrl(url);
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  })
  .join('\n');

/** A leak: a 4-character piece of the password that appears in the output but not in the URL without it. */
function leaked(output: string, pw: string, url: string): string | undefined {
  const rest = url.split(pw).join('');
  for (let i = 0; i + 4 <= pw.length; i++) {
    const piece = pw.slice(i, i + 4);
    if (!rest.includes(piece) && !MESSAGE_TEXT.includes(piece) && output.includes(piece)) return piece;
  }
  return undefined;
}

function outputs(url: string): string[] {
  try {
    const conn = new Connection(url);
    const info = conn.info();
    return [info.url, ...info.alternates, maskUrl(url), ...parseUrls(url).map((u) => u.masked)];
  } catch (error) {
    expect(error).toBeInstanceOf(UrlError);
    return [(error as Error).message, maskUrl(url)];
  }
}

describe('passwords in broker URLs', () => {
  it('never appear in masked URLs, info() or errors, for any password, raw or percent-encoded', () => {
    fc.assert(
      fc.property(password, fc.constantFrom(...shapes), fc.boolean(), (pw, shape, encode) => {
        const written = encode ? encodeURIComponent(pw) : pw;
        const url = shape(written);
        for (const out of outputs(url)) {
          expect(leaked(out, written, url), `${url} → ${out}`).toBeUndefined();
          expect(leaked(out, pw, shape('')), `${url} → ${out}`).toBeUndefined();
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a percent-encoded password back exactly', () => {
    fc.assert(
      fc.property(password, (pw) => {
        expect(parseUrl(`redis://user:${encodeURIComponent(pw)}@h:6379/0`).password).toBe(pw);
      }),
    );
  });

  it('refuses the ambiguous URLs the review found, naming what to encode', () => {
    for (const url of [
      'redis://u:pa#ss@h:6379',
      'redis://u:pa?ss@h:6379',
      'redis://u:pa/ss@h:6379/0',
      'redis://u:p@ss@h',
      'redis://:1234/secret@h',
      'redis://:1234?secret@h',
    ]) {
      expect(() => parseUrl(url), url).toThrow(/percent-encode/);
      expect(maskUrl(url), url).not.toMatch(/ss|secret/);
    }
  });

  it('keeps a raw ";" inside a password instead of splitting the failover list there', () => {
    expect(parseUrls('redis://:pa;ss@h:6379').map((u) => u.password)).toEqual(['pa;ss']);
    expect(parseUrls('amqp://a:x@one;amqp://b:y@two').map((u) => u.hostname)).toEqual(['one', 'two']);
  });
});
