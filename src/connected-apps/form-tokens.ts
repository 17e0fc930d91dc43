import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { CsrfTokens } from '../interactions/csrf.js';

/**
 * CSRF tokens for the pages that have no interaction to bind them to: the connected-apps pages (/account), and the
 * sign-up page (/signup). Each browser gets a random value in an HttpOnly, SameSite=Strict cookie scoped to the
 * pages' path that no other site can read, and a token is an HMAC of it; once signed in, of the session's uid too, so
 * a token shown to one sign-in is worthless to the next, and a cookie planted by a neighbouring site is not enough to
 * forge one. The tokens of one path are worthless on another.
 */
export class AccountFormTokens {
  private readonly tokens: CsrfTokens;
  private readonly secure: boolean;
  private readonly cookie: string;

  constructor(secret: string, issuer: string, private readonly path = '/account') {
    const name = path.slice(1);
    this.tokens = new CsrfTokens(secret, `${name}-form`);
    this.secure = issuer.startsWith('https:');
    this.cookie = `${name}.csrf`;
  }

  /** The token for the forms of a page about to be shown; gives the browser its cookie on the first visit. */
  issue(ctx: Context, sessionUid = ''): string {
    let nonce = ctx.cookies.get(this.cookie);
    if (!nonce) {
      nonce = randomBytes(32).toString('base64url');
      // Lets a Secure cookie out over plain HTTP when TLS ends at a proxy in front of us.
      ctx.cookies.secure = this.secure || ctx.secure;
      ctx.cookies.set(this.cookie, nonce, { httpOnly: true, sameSite: 'strict', secure: this.secure, path: this.path });
    }
    return this.tokens.issue(`${nonce}:${sessionUid}`);
  }

  verify(ctx: Context, presented: unknown, sessionUid = ''): boolean {
    const nonce = ctx.cookies.get(this.cookie);
    return Boolean(nonce) && this.tokens.verify(`${nonce}:${sessionUid}`, presented);
  }
}
