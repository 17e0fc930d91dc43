import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderHooks } from '../../config/provider.js';
import { sendPage } from '../http/render.js';

const clientName = (ctx: KoaContextWithOIDC) => ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? '';

/** What went wrong with an entered device code, in the user's words. */
function deviceCodeError(err: Error | undefined): string {
  if (!err) return '';
  if ((err as { userCode?: string }).userCode || err.name === 'NoCodeError') return 'That code is not right, or it expired. Check it and try again.';
  if (err.name === 'AbortedError') return 'The sign-in was cancelled.';
  return 'Something went wrong. Start again on your device.';
}

/** The provider's own pages, drawn with our views so every page looks and is protected alike. */
export const providerPages: Pick<ProviderHooks,
  'renderError' | 'logoutSource' | 'postLogoutSuccessSource' | 'userCodeInputSource' | 'userCodeConfirmSource' | 'deviceSuccessSource'> = {
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
      client: clientName(ctx),
    });
  },
  // Our own form rather than the provider's, which carries an inline event handler the CSP forbids.
  async userCodeInputSource(ctx, _form, _out, err) {
    ctx.set('Cache-Control', 'no-store');
    await sendPage(ctx, 'device', {
      title: 'Connect a device',
      action: ctx.oidc.urlFor('code_verification'),
      xsrf: String(ctx.oidc.session?.state?.secret ?? ''),
      userCode: (err as { userCode?: string } | undefined)?.userCode ?? '',
      error: deviceCodeError(err),
    }, err ? 400 : 200);
  },
  async userCodeConfirmSource(ctx, form, _client, _deviceInfo, userCode) {
    ctx.set('Cache-Control', 'no-store');
    await sendPage(ctx, 'device-confirm', { title: 'Confirm the device', form, client: clientName(ctx), userCode });
  },
  async deviceSuccessSource(ctx) {
    await sendPage(ctx, 'device-done', { title: 'Device connected', client: clientName(ctx) });
  },
};
