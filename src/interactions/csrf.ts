import { createHmac, timingSafeEqual } from 'node:crypto';
import { Problem } from '../http/problem.js';

/** The answer to a form posted without its token, or with one that is not this browser's. */
export const formExpired = () => new Problem(403, 'invalid_request', 'This form has expired. Reload the page and try again.');

/**
 * Form tokens bound to a value only this browser holds: an HMAC of it under a server secret. For the
 * interaction pages that value is the interaction's uid (the interaction cookie ties it to this browser), so a
 * page on another site can neither read nor forge the token. `purpose` keeps the tokens of one kind of form
 * from ever being valid for another.
 */
export class CsrfTokens {
  constructor(private readonly secret: string, private readonly purpose = 'interaction-form') {}

  issue(binding: string): string {
    return createHmac('sha256', this.secret).update(`${this.purpose}:${binding}`).digest('base64url');
  }

  verify(binding: string, presented: unknown): boolean {
    if (typeof presented !== 'string') return false;
    const expected = Buffer.from(this.issue(binding));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
