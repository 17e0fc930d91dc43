import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * First-party clients (client1) are trusted: the grant is created or widened to cover what they ask for, so
 * the provider never needs a consent step for them. Every other client keeps the library's behaviour.
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
    const before = `${grant.getOIDCScope()}|${grant.getOIDCClaims().join(' ')}`;
    const scopes = [...oidc.requestParamOIDCScopes].join(' ');
    if (scopes) grant.addOIDCScope(scopes);
    const claims = [...oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    if (grant !== existing || before !== `${grant.getOIDCScope()}|${grant.getOIDCClaims().join(' ')}`) {
      await grant.save();
    }
    return grant;
  };
}
