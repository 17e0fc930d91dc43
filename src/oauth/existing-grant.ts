import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import type { ConsentStore } from '../../adapters/stores.js';
import { grantBelongs, rememberedGrant } from './remembered-grant.js';

type Oidc = KoaContextWithOIDC['oidc'];

/** The members of `wanted` that `granted` (a space-separated list) lacks. */
const lacking = (granted: string, wanted: Iterable<string>) => {
  const have = new Set(granted.split(' '));
  return [...wanted].filter((item) => !have.has(item));
};

/**
 * First-party clients (client1) are trusted: the grant is created or widened to cover what they ask for,
 * OIDC scopes, claims and resource scopes alike, so the provider never needs a consent step for them. The
 * grant is written only when it changed.
 */
async function firstPartyGrant(oidc: Oidc, existing: Grant | undefined, accountId: string, clientId: string) {
  const grant = existing ?? new oidc.provider.Grant({ accountId, clientId });
  let changed = grant !== existing;

  const scopes = lacking(grant.getOIDCScope(), oidc.requestParamOIDCScopes);
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  const claims = lacking(grant.getOIDCClaims().join(' '), oidc.requestParamClaims);
  if (claims.length) grant.addOIDCClaims(claims);
  changed ||= scopes.length > 0 || claims.length > 0;

  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const wanted = [...oidc.requestParamScopes].filter((scope) => server.scopes.has(scope));
    const missing = lacking(grant.getResourceScope(indicator), wanted);
    if (missing.length) {
      grant.addResourceScope(indicator, missing.join(' '));
      changed = true;
    }
  }

  if (changed) await grant.save();
  return grant;
}

/**
 * The grant an authorization starts from (the provider's loadExistingGrant hook). First-party clients get
 * theirs widened at once. Every other client gets the grant of this browser session or, failing that, the one
 * the user consented to in an earlier session (the consent store outlives sessions): the provider then asks
 * for consent only for what that grant does not cover.
 */
export function loadExistingGrant(firstParty: ReadonlySet<string>, consents: ConsentStore) {
  return async (ctx: KoaContextWithOIDC) => {
    const { oidc } = ctx;
    const clientId = oidc.client!.clientId;
    const accountId = oidc.session!.accountId!;
    const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(clientId);
    const current = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    const existing = grantBelongs(current, accountId, clientId) ? current : undefined;
    if (firstParty.has(clientId)) return firstPartyGrant(oidc, existing, accountId, clientId);
    if (existing) return existing;
    const remembered = await consents.find(accountId, clientId);
    return remembered && rememberedGrant(oidc.provider, accountId, remembered);
  };
}
