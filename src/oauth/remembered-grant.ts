import type Provider from 'oidc-provider';
import type { Grant } from 'oidc-provider';
import type { Consent } from '../../adapters/stores.js';

/** Whether the provider may use `grant` for this user and client: it refuses anything else with a 500. */
export const grantBelongs = (grant: Grant | undefined, accountId: string, clientId: string): grant is Grant =>
  grant?.accountId === accountId && grant.clientId === clientId;

/**
 * The grant a remembered consent points at, while it lasts: grants expire, are revoked on the connected-apps
 * page, and the library destroys some itself (logout, a stolen refresh token), so the record may outlive it.
 */
export async function rememberedGrant(provider: Provider, accountId: string, consent: Consent): Promise<Grant | undefined> {
  const grant = await provider.Grant.find(consent.grantId);
  return grantBelongs(grant, accountId, consent.clientId) ? grant : undefined;
}
