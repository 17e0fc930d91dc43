import type Provider from 'oidc-provider';
import type { Grant } from 'oidc-provider';

/**
 * Ends a grant at once, as the library's own revocation helper (lib/helpers/revoke.js) does, which needs a
 * provider request context our pages do not have. The grant goes first: the provider checks it on every
 * introspection and refresh, so its tokens are dead from that moment even if removing them were cut short.
 * Then every access token, refresh token and unused code issued under it goes too.
 */
export async function revokeGrant(provider: Provider, grant: Grant): Promise<void> {
  await grant.destroy();
  const models = [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode];
  await Promise.all(models.map((model) => model.revokeByGrantId(grant.jti)));
}
