import type { KoaContextWithOIDC } from 'oidc-provider';

/** The members of `wanted` that `granted` (a space-separated list) lacks. */
const lacking = (granted: string, wanted: Iterable<string>) => {
  const have = new Set(granted.split(' '));
  return [...wanted].filter((item) => !have.has(item));
};

/**
 * First-party clients (client1) are trusted: the grant is created or widened to cover what they ask for,
 * OIDC scopes, claims and resource scopes alike, so the provider never needs a consent step for them. Every
 * other client keeps the library's behaviour. The grant is written only when it changed.
 */
export function loadExistingGrant(firstParty: ReadonlySet<string>) {
  return async (ctx: KoaContextWithOIDC) => {
    const { oidc } = ctx;
    const clientId = oidc.client!.clientId;
    const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(clientId);
    const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!firstParty.has(clientId)) return existing;

    const accountId = oidc.session!.accountId!;
    const grant = existing?.accountId === accountId ? existing : new oidc.provider.Grant({ accountId, clientId });
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
  };
}
