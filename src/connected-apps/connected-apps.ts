import type Provider from 'oidc-provider';
import type { Grant } from 'oidc-provider';
import type { ConsentStore } from '../../adapters/stores.js';
import { describeScope } from '../../config/scopes.js';
import { rememberedGrant } from '../oauth/remembered-grant.js';
import { revokeGrant } from '../oauth/revoke-grant.js';

export interface ConnectedApp {
  clientId: string;
  /** The client's own name for itself when the user allowed it, else its id. */
  name: string;
  /** The host of its client_id, for a client described by a metadata document. */
  domain?: string;
  /** What the grant allows today, which may be more than the first consent (step-up). */
  scopes: { scope: string; description: string }[];
  /** When the user last allowed something for it. */
  grantedAt: Date;
}

/** Every scope of a grant: its OIDC scopes and each resource's. */
function grantedScopes(grant: Grant): string[] {
  const resources = Object.keys(grant.resources ?? {}).map((indicator) => grant.getResourceScope(indicator));
  return [...new Set([grant.getOIDCScope(), ...resources].join(' ').split(' ').filter(Boolean))];
}

/** The third-party apps a user has allowed: what each may do, and taking that back. */
export class ConnectedApps {
  constructor(private readonly provider: Provider, private readonly consents: ConsentStore) {}

  /**
   * Most recent first. Consents whose grant is gone (expired, or ended by the provider) are not connections. Each app
   * is named as it was when the user allowed it: loading the clients could mean a fetch from each one's host.
   */
  async list(accountId: string): Promise<ConnectedApp[]> {
    const apps = await Promise.all((await this.consents.list(accountId)).map(async (consent) => {
      const grant = await rememberedGrant(this.provider, accountId, consent);
      if (!grant) return undefined;
      return {
        clientId: consent.clientId,
        ...consent.client,
        scopes: grantedScopes(grant).map((scope) => ({ scope, description: describeScope(scope) })),
        grantedAt: new Date(consent.grantedAt),
      };
    }));
    return apps.filter((app) => app !== undefined).sort((a, b) => b.grantedAt.getTime() - a.grantedAt.getTime());
  }

  /**
   * Ends the app's access at once (its grant and every token of it) and forgets the consent, so its next
   * authorization asks again. False when this user has no consent for that client: another user's consents
   * are never reached, since the store is keyed by the user.
   */
  async revoke(accountId: string, clientId: string): Promise<boolean> {
    const consent = await this.consents.find(accountId, clientId);
    if (!consent) return false;
    const grant = await rememberedGrant(this.provider, accountId, consent);
    if (grant) await revokeGrant(this.provider, grant);
    // Forgotten last: if revoking fails half-way, the app stays listed and the user can try again.
    await this.consents.forget(accountId, clientId);
    return true;
  }
}
