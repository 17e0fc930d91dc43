import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Form tokens bound to one interaction: an HMAC of its uid under a server secret. The interaction cookie
 * already ties the uid to this browser, so a page on another site can neither read nor forge the token.
 */
export class CsrfTokens {
  constructor(private readonly secret: string) {}

  issue(uid: string): string {
    return createHmac('sha256', this.secret).update(`interaction-form:${uid}`).digest('base64url');
  }

  verify(uid: string, presented: unknown): boolean {
    if (typeof presented !== 'string') return false;
    const expected = Buffer.from(this.issue(uid));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
