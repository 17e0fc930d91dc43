import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { CsrfTokens } from '../interactions/csrf.js';

const COOKIE = 'account.csrf';

/**
 * CSRF tokens for the connected-apps pages, which have no interaction to bind them to. Each browser gets a
 * random value in an HttpOnly, SameSite=Strict cookie scoped to /account that no other site can read, and a
 * token is an HMAC of it; once signed in, of the session's uid too, so a token shown to one sign-in is worthless
 * to the next, and a cookie planted by a neighbouring site is not enough to forge one.
 */
export class AccountFormTokens {
  private readonly tokens: CsrfTokens;
  private readonly secure: boolean;

  constructor(secret: string, issuer: string) {
    this.tokens = new CsrfTokens(secret, 'account-form');
    this.secure = issuer.startsWith('https:');
  }

  /** The token for the forms of a page about to be shown; gives the browser its cookie on the first visit. */
  issue(ctx: Context, sessionUid = ''): string {
    let nonce = ctx.cookies.get(COOKIE);
    if (!nonce) {
      nonce = randomBytes(32).toString('base64url');
      // Lets a Secure cookie out over plain HTTP when TLS ends at a proxy in front of us.
      ctx.cookies.secure = this.secure || ctx.secure;
      ctx.cookies.set(COOKIE, nonce, { httpOnly: true, sameSite: 'strict', secure: this.secure, path: '/account' });
    }
    return this.tokens.issue(`${nonce}:${sessionUid}`);
  }

  verify(ctx: Context, presented: unknown, sessionUid = ''): boolean {
    const nonce = ctx.cookies.get(COOKIE);
    return Boolean(nonce) && this.tokens.verify(`${nonce}:${sessionUid}`, presented);
  }
}
