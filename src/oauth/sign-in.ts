import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { TTL } from '../../config/provider.js';

export type SignIn = (ctx: Context, accountId: string) => Promise<void>;

/**
 * Gives the browser (or curl's cookie jar) a provider session, exactly as the provider's own login
 * interaction would, so a later /oauth/authorize finds the user signed in. Any earlier session of this
 * browser is ended first, and the session id is always new (no session fixation).
 */
export function createSignIn(provider: Provider, issuer: string): SignIn {
  const cookieName = provider.cookieName('session');
  const secure = issuer.startsWith('https:');
  return async (ctx, accountId) => {
    const { cookies } = provider.createContext(ctx.req, ctx.res);
    const previousId = cookies.get(cookieName, { signed: true });
    if (previousId) await (await provider.Session.find(previousId))?.destroy();

    const session = new provider.Session();
    session.loginAccount({ accountId, amr: ['pwd'] });
    await session.save(TTL.Session);
    // Lets a Secure cookie out over plain HTTP when TLS ends at a proxy in front of us.
    cookies.secure = secure;
    cookies.set(cookieName, session.jti, {
      httpOnly: true,
      sameSite: 'lax',
      secure,
      signed: true,
      maxAge: TTL.Session * 1000,
    });
  };
}
