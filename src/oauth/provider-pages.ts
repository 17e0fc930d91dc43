import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderHooks } from '../../config/provider.js';
import { sendPage } from '../http/render.js';

/** The provider's own pages, drawn with our views so every page looks and is protected alike. */
export const providerPages: Pick<ProviderHooks, 'renderError' | 'logoutSource' | 'postLogoutSuccessSource'> = {
  async renderError(ctx, out) {
    ctx.set('Cache-Control', 'no-store');
    await sendPage(ctx, 'error', {
      title: 'Sign-in error',
      error: out.error,
      description: out.error_description ?? '',
    }, ctx.status);
  },
  async logoutSource(ctx: KoaContextWithOIDC, form: string) {
    await sendPage(ctx, 'logout', { title: 'Sign out', form, host: ctx.host });
  },
  // The provider lands both "Yes, sign me out" and "No, stay signed in" here: say which one happened.
  async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
    const session = await ctx.oidc.provider.Session.get(ctx);
    const signedIn = Boolean(session.accountId);
    await sendPage(ctx, 'logged-out', {
      title: signedIn ? 'Still signed in' : 'Signed out',
      signedIn,
      client: ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? '',
    });
  },
};
