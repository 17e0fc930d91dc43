import type Provider from 'oidc-provider';
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';
import { withholdRedirect } from './provider-internals.js';
import { classifyRedirectUri } from './redirect-uris.js';

/** How the provider would have sent the error back: the response modes it has (JARM and web_message are off). */
type ReturnMode = 'query' | 'fragment' | 'form_post';

/** An authorization error the provider was not let send back to the client by itself. */
export interface HeldError {
  redirectUri: string;
  mode: ReturnMode;
}

/** Where the person may take the error themselves: a link, or (form_post) a form to submit. */
type ReturnTarget = { href: string } | { action: string; fields: [string, string][] };

const held = new WeakMap<Error, HeldError>();

/** The error renderError was handed, if it is one held back here. */
export const heldError = (err: Error): HeldError | undefined => held.get(err);

const nonEmpty = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/** The provider's own choice (lib/shared/authorization_error_handler.js): the requested mode if it has it, else the response type's default. */
function returnMode(params: Record<string, unknown>): ReturnMode {
  const asked = params.response_mode;
  if (asked === 'query' || asked === 'fragment' || asked === 'form_post') return asked;
  return typeof params.response_type === 'string' && params.response_type.includes('token') ? 'fragment' : 'query';
}

/**
 * Whether this request loaded a grant the signed-in user gave this client: the provider's loadGrant step records an
 * existing grant (the session's own, or a consent remembered from another browser; see existing-grant.ts) in the
 * session under the grant's id; a new, empty grant has no id until it is saved.
 */
function alreadyGranted(ctx: KoaContextWithOIDC, clientId: string): boolean {
  const { grant, session } = ctx.oidc;
  return Boolean(grant?.jti && session?.accountId && session.authorizations?.[clientId]?.grantId === grant.jti);
}

/**
 * RFC 9700 §4.11.2: an authorization server sends the browser to a redirect URI by itself only if it trusts it.
 * Anyone can register a client here (DCR, Client ID Metadata Documents) with any https, loopback or private-use
 * redirect URI, and an error at the authorization endpoint needs no one to sign in: left alone, the endpoint would
 * redirect any visitor to any such URI under this server's name (an open redirector), or launch a local app.
 *
 * So an error answered at the authorization endpoint itself (route 'authorization', PAR's request_uri included),
 * before the person did anything here, goes back to the client on its own only when:
 *  - the client is the operator's own (static: client1, mcp-cli), whatever its redirect URI; or
 *  - the signed-in user has already let this client in (the request loaded their grant) and the redirect URI is not a
 *    private-use scheme: a request within that grant sends a code there silently anyway, so holding its errors back
 *    protects nothing, and an OpenID client's silent re-authentication (prompt=none) must learn consent_required or
 *    login_required (max_age) to send the user through a visible sign-in. Without a session no grant can be found:
 *    prompt=none's login_required gets the page, and the app learns it when the person follows the link.
 * A private-use scheme launches an app on this device: never on an error without the person asking for it.
 * Anything else is handed to renderError, which draws a page naming the error, the app and where it wanted to go,
 * and lets the person take the error back to the app. Errors after the person acted (a denied consent, any error at
 * the resume route) are left to the provider: the person chose to go back.
 *
 * The provider emits authorization.error before it decides between renderError and the redirect, on the error it
 * then decides with: turning that error's allow_redirect off is what has it rendered instead.
 */
export function holdUntrustedErrorRedirects(provider: Provider, staticClientIds: ReadonlySet<string>): void {
  provider.on('authorization.error', (ctx, err) => {
    const { client, route } = ctx.oidc;
    if (route !== 'authorization' || !client || staticClientIds.has(client.clientId) || !err.allow_redirect) return;
    const params = (ctx.oidc.params ?? ctx.query) as Record<string, unknown>;
    const redirectUri = nonEmpty(params.redirect_uri);
    if (!redirectUri) return;
    const redirect = classifyRedirectUri(redirectUri);
    const privateUse = 'kind' in redirect && redirect.kind === 'private-use';
    if (!privateUse && alreadyGranted(ctx, client.clientId)) return;
    withholdRedirect(err);
    held.set(err, { redirectUri, mode: returnMode(params) });
  });
}

/** What the provider would have sent (lib/helpers/redirect_uri.js, lib/response_modes/), for the person to take. */
export function returnTarget({ redirectUri, mode }: HeldError, out: ErrorOut): ReturnTarget {
  const payload = Object.entries(out).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  if (mode === 'form_post') return { action: redirectUri, fields: payload };
  const url = new URL(redirectUri);
  if (mode === 'fragment') url.hash = new URLSearchParams(payload).toString();
  else for (const [name, value] of payload) url.searchParams.set(name, value);
  return { href: url.href };
}
