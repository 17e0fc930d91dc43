import type Provider from 'oidc-provider';
import type { InteractionDetails } from './guards.js';

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

const detailsOf = (interaction: InteractionDetails) => interaction.prompt.details as ConsentDetails;

/** What a consent page asks the user to allow: scopes and claims. */
export interface ConsentRequest {
  scopes: string[];
  claims: string[];
}

/**
 * What the grant lacks, OIDC and resource scopes alike: only that is asked, so a client that asks for more
 * than it was given is asked for the difference. The provider also asks native clients to confirm every time,
 * with nothing missing: the page then lists everything the request names.
 */
export function consentRequest(interaction: InteractionDetails): ConsentRequest {
  const details = detailsOf(interaction);
  const missing = [...(details.missingOIDCScope ?? []), ...Object.values(details.missingResourceScopes ?? {}).flat()];
  const claims = details.missingOIDCClaims ?? [];
  const requested = String(interaction.params.scope ?? '').split(' ').filter(Boolean);
  const scopes = missing.length || claims.length ? missing : requested;
  return { scopes: [...new Set(scopes)], claims };
}

/** A grant saved with what the user allowed. */
export interface SavedGrant {
  grantId: string;
  /** Epoch milliseconds: when the grant ends (its lifetime runs from its creation, not from a later consent to it). */
  expiresAt: number;
}

/** Grants what the consent prompt found missing, on the interaction's grant (or a new one). */
export async function grantConsent(provider: Provider, interaction: InteractionDetails): Promise<SavedGrant> {
  const accountId = interaction.session!.accountId;
  const clientId = String(interaction.params.client_id);
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const details = detailsOf(interaction);
  if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  return { grantId, expiresAt: Date.now() + grant.remainingTTL * 1000 };
}
