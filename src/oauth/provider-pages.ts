import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderHooks } from '../../config/provider.js';
import { sendPage } from '../http/render.js';
import { identityOf } from './client-name.js';
import { errorAdvice, type ClientStanding } from './error-advice.js';
import { heldError, returnTarget, type HeldError } from './error-redirect-trust.js';
import { errorInWords } from './error-words.js';
import { MetadataDocumentHostRefused } from './metadata-document-hosts.js';
import { leaveSessionUnsaved } from './provider-internals.js';
import { redirectHost } from './redirect-host.js';

const clientName = (ctx: KoaContextWithOIDC) => ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? '';

/** What went wrong with an entered device code, in the user's words. */
function deviceCodeError(err: Error | undefined): string {
  if (!err) return '';
  if ((err as { userCode?: string }).userCode || err.name === 'NoCodeError') return 'That code is not right, or it expired. Check it and try again.';
  if (err.name === 'AbortedError') return 'The sign-in was cancelled.';
  // The form was drawn for another session (an old tab, a restarted sign-in): the one drawn now works.
  if (err.name === 'InvalidRequest') return 'This form had expired. Enter the code again.';
  return 'Something went wrong. Start again on your device.';
}

/**
 * The error's own status when it has one; 400 for the provider's re-render errors, which carry a 200. A storage outage
 * never shows this form: adapters/spend-last.ts answers it with the outage page (src/oauth/outage-page.ts).
 */
const errorStatus = (err: Error) => Math.max(400, (err as { statusCode?: number }).statusCode ?? 400);

/**
 * An error on a device page (code entry, or the return from sign-in) from a browser with no stored session: no
 * session cookie, or one whose signature does not verify. The provider answers errors there by putting a fresh xsrf
 * secret in the session and asking for the code form again, then calls session.persist(), which throws (a 500) for
 * a session that was never saved. A form whose secret is stored nowhere could never be submitted, and a session
 * stored for every anonymous POST would be free storage for anyone: leave the session untouched so nothing is
 * stored, and send the user to the code page, which starts a session of its own.
 */
async function refuseWithoutSession(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
  leaveSessionUnsaved(ctx.oidc.session!);
  const status = Math.max(400, ctx.status);
  // A browser page: HTML unless the client asks for JSON over it (curl's */* gets the page).
  if (ctx.accepts('html', 'json') === 'json') {
    ctx.status = status;
    ctx.body = out;
    return;
  }
  const codePage = ctx.oidc.urlFor('code_verification');
  await sendPage(ctx, 'error', {
    title: 'Connect a device',
    error: out.error,
    description: `This page has expired, or was opened in another browser or with cookies blocked. Open ${codePage} again and enter the code shown on your device.`,
  }, status);
}

/**
 * An authorization error held back from an app whose redirect URI is not trusted (error-redirect-trust.ts): named in
 * plain words, with the app's own unverified name and where it wanted the person back, who may take it there.
 */
async function appErrorPage(ctx: KoaContextWithOIDC, out: ErrorOut, held: HeldError): Promise<void> {
  const client = identityOf(ctx.oidc.client!);
  await sendPage(ctx, 'app-error', {
    title: 'Sign-in error',
    words: errorInWords(out.error),
    description: out.error_description ?? '',
    error: out.error,
    clientName: client.name,
    clientDomain: client.domain ?? '',
    clientId: ctx.oidc.client!.clientId,
    returnHost: redirectHost(held.redirectUri),
    target: returnTarget(held, out),
  }, ctx.status);
}

/** What the error page knows of the app behind `err`. */
function clientStanding(unknownClient: boolean, clientRegistrationOpen: boolean, err: Error | undefined): ClientStanding {
  if (unknownClient) return clientRegistrationOpen ? 'unknown' : 'unknown, registration closed';
  return err instanceof MetadataDocumentHostRefused ? 'host not allowed' : 'known';
}

/**
 * The provider's own pages, drawn with our views so every page looks and is protected alike. With Dynamic Client
 * Registration closed, nothing points an unknown app to a registration endpoint that is not there.
 */
export const providerPages = (clientRegistrationOpen: boolean): Pick<ProviderHooks,
  'renderError' | 'logoutSource' | 'postLogoutSuccessSource' | 'userCodeInputSource' | 'userCodeConfirmSource' | 'deviceSuccessSource'> => ({
  async renderError(ctx, out, err) {
    ctx.set('Cache-Control', 'no-store');
    const held = heldError(err);
    // prompt=none's errors carry the 303 of the redirect they were meant for.
    if (held) ctx.status = Math.max(400, ctx.status);
    // Hosts probe the authorization URL with Accept: application/json to find out whether their registration is
    // still known here (mcp-remote registers again on a description saying the client "is not registered", with
    // the registration endpoint beside it): they get OAuth's JSON, a browser gets the page.
    // The provider marks a client_id it found nowhere (rather than one whose metadata document failed) with `noclient`.
    const unknownClient = out.error === 'invalid_client' && Boolean((ctx.oidc as { noclient?: boolean }).noclient);
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.body = unknownClient
        ? {
          error: out.error,
          error_description: 'the client is not registered with this server',
          ...(clientRegistrationOpen ? { registration_endpoint: ctx.oidc.urlFor('registration') } : {}),
        }
        : { error: out.error, error_description: out.error_description ?? out.error };
      return;
    }
    if (held) return appErrorPage(ctx, out, held);
    await sendPage(ctx, 'error', {
      title: 'Sign-in error',
      error: out.error,
      description: out.error_description ?? '',
      advice: errorAdvice(out.error, clientStanding(unknownClient, clientRegistrationOpen, err)),
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
  async userCodeInputSource(ctx, _form, out, err) {
    ctx.set('Cache-Control', 'no-store');
    // A GET draws this form before its new session is saved; an error draws it after the session was saved or not,
    // so only then does a session without an expiry mean that none is stored.
    if (err && out && typeof ctx.oidc.session?.exp !== 'number') return refuseWithoutSession(ctx, out);
    // Refused before the code was looked up (src/limits/device-codes.ts) or before a session was stored for the page
    // (src/limits/anonymous-records.ts): no form until the wait is over.
    if (out?.error === 'too_many_requests') {
      return sendPage(ctx, 'error', {
        title: 'Connect a device',
        error: out.error,
        description: out.error_description ?? '',
        advice: 'What your network can do here is limited for a while. Wait, then enter the code your device shows.',
      }, 429);
    }
    await sendPage(ctx, 'device', {
      title: 'Connect a device',
      action: ctx.oidc.urlFor('code_verification'),
      xsrf: String(ctx.oidc.session?.state?.secret ?? ''),
      userCode: (err as { userCode?: string } | undefined)?.userCode ?? '',
      error: deviceCodeError(err),
    }, err ? errorStatus(err) : 200);
  },
  async userCodeConfirmSource(ctx, form, _client, _deviceInfo, userCode) {
    ctx.set('Cache-Control', 'no-store');
    await sendPage(ctx, 'device-confirm', { title: 'Confirm the device', form, client: clientName(ctx), userCode });
  },
  async deviceSuccessSource(ctx) {
    await sendPage(ctx, 'device-done', { title: 'Device connected', client: clientName(ctx) });
  },
});
