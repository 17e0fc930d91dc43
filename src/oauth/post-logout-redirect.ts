import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { currentRequest, overridePostLogoutRedirectUriCheck } from './provider-internals.js';

/**
 * Whether this sign-out request may send the browser on to the client's post_logout_redirect_uri.
 *
 * OpenID Connect RP-Initiated Logout ties the redirect to the requester through its id_token_hint: a client_id alone
 * proves nothing, and oidc-provider 9 redirects on one (with no session it even submits the sign-out by itself), which
 * made /oauth/logout an open redirect to whatever a self-registered client listed. A hint proves little more here:
 * registration is open, so anyone can register a client with their own redirect, sign in and obtain an ID token for it.
 * So the hint must be one the provider verified (signed here, for this client: it refuses the request otherwise) and
 * name the user signed in in this browser, who must have signed in to that client in this session.
 */
function tiedToSignedInUser(ctx: KoaContextWithOIDC, clientId: string): boolean {
  const hint = ctx.oidc.entities.IdTokenHint?.payload;
  const { session } = ctx.oidc;
  return hint !== undefined && hint.aud === clientId && typeof hint.sub === 'string'
    && session?.accountId === hint.sub && Boolean(session.authorizations?.[clientId]?.grantId);
}

/**
 * Applies the rule above where the provider checks a post_logout_redirect_uri (provider-internals.ts). An unregistered URI keeps the provider's answer, an
 * invalid_request page. A registered URI in a request that is not tied to the signed-in user is dropped, as the
 * provider itself drops one that comes without any client: the sign-out goes on and ends on this server's own page.
 */
export function tiePostLogoutRedirects(provider: Provider): void {
  overridePostLogoutRedirectUriCheck(provider, (client, _uri, registered) => {
    if (!registered) return false;
    const ctx = currentRequest();
    if (!ctx) return false;
    if (!tiedToSignedInUser(ctx, client.clientId)) ctx.oidc.params!.post_logout_redirect_uri = undefined;
    return true;
  });
}
