/** Who may sign in (Flower's --auth), on the cases of Flower's tests/unit/views/test_auth.py. */
import { describe, expect, it } from 'vitest';
import { allowedEmail, checkAllowed } from '../src/flower/oidc.js';

const valid = (p: string): boolean => {
  try {
    checkAllowed(p);
    return true;
  } catch {
    return false;
  }
};

describe("Flower's --auth", () => {
  it('accepts the patterns Flower accepts', () => {
    for (const p of ['mail@example.com', '.*@example.com', 'one.*@example.com', 'one.*two@example.com', 'one@example.com|two@example.com', '*@example.com'])
      expect(valid(p), p).toBe(true);
    for (const p of ['.*@.*example.com', 'one@domain1.com|.*@domain2.com', 'mail@.*example.com', '.*example.com']) expect(valid(p), p).toBe(false);
  });

  it('lets in exactly the addresses Flower lets in', () => {
    const cases: Array<[string, string, boolean]> = [
      ['mail@example.com', 'mail@example.com', true],
      ['mail@example.com', 'foo@example.com', false],
      ['mail@example.com', 'long.mail@example.com', false],
      ['mail@example.com', '', false],
      ['me@gmail.com', 'me@gmail.com.attacker.com', false],
      ['me@gmail.com', '*', false],
      ['one@example.com|two@example.net', 'one@example.com', true],
      ['one@example.com|two@example.net', 'two@example.net', true],
      ['one@example.com|two@example.net', 'two@example.com', false],
      ['one@example.com|two@example.net', '*', false],
      ['.*@example.com', 'one@example.com', true],
      ['one.*@example.com', 'one@example.com', true],
      ['one.*@example.com', 'one.two@example.com', true],
      ['.*@example.com', 'attacker@example.com.attacker.com', false],
      ['.*@example.com', 'attacker@example.com@evil.example', false],
      ['.*@corp.example.com', 'attacker@corpZexample.com', false],
      ['.*@corp\\.example\\.com', 'attacker@corpZexample.com', false],
      ['*@example.com', 'ana@example.com', true],
      ['*@example.com', 'ana@example.community', false],
    ];
    for (const [pattern, email, allowed] of cases) expect(allowedEmail(pattern, email), `${pattern} ${email}`).toBe(allowed);
  });
});
