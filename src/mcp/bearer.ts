import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { AccountStore } from '../../adapters/stores.js';
import { mcpResource } from '../../config/resource-server.js';
import { clientName } from '../oauth/client-name.js';
import type { BearerChallenges } from './challenge.js';
import { toAuthInfo } from './caller.js';
import type { TokenCache } from './token-cache.js';

/** RFC 6750 section 2.1: the scheme is case-insensitive; the token is one b64token. */
const BEARER = /^Bearer +([\w.~+/-]+=*) *$/i;

/** The token check of /mcp, in two halves: a synchronous one for the edge (edge.ts), the whole one for the route. */
export interface BearerCheck {
  /** The caller of an Authorization header whose token was checked already (the cache), without any I/O. */
  known(authorization: string | undefined): AuthInfo | undefined;
  /** The whole check: a caller, or a refusal thrown (401, or 503 when storage is unreachable). */
  authenticate(ctx: Context): Promise<AuthInfo>;
}

/**
 * The resource server's token check. Access tokens are opaque: each one is looked up in the provider's
 * storage the first time, then served from the cache, which every revocation (on any instance) clears at once.
 * A storage outage propagates as StorageUnavailable (503), never as a 401 that would send the host to log in
 * again.
 */
export function bearerCheck(provider: Provider, accounts: AccountStore, issuer: string, challenges: BearerChallenges, cache: TokenCache): BearerCheck {
  const resource = mcpResource(issuer);
  const invalid = (ctx: Context) => challenges.invalidToken(ctx, 'the access token is unknown, expired or revoked');

  const known = (authorization: string | undefined) => {
    const value = authorization ? BEARER.exec(authorization)?.[1] : undefined;
    return value ? cache.get(value) : undefined;
  };

  async function authenticate(ctx: Context): Promise<AuthInfo> {
    const value = BEARER.exec(ctx.get('authorization'))?.[1];
    if (!value) throw challenges.missingToken(ctx);
    const cached = cache.get(value);
    if (cached) return cached;

    const epoch = cache.epoch;
    const token = await provider.AccessToken.find(value);
    if (!token || token.isExpired || !token.accountId || !token.clientId || !token.exp) throw invalid(ctx);
    // RFC 8707: a token is good only where it was meant to be used. Without this, a token for userinfo or
    // for another resource server would work here too (the MCP spec forbids accepting those).
    if (![token.aud ?? []].flat().includes(resource)) {
      throw challenges.invalidToken(ctx, `the access token was not issued for ${resource}: request one with resource=${resource}`);
    }
    // As the provider's own userinfo and introspection do: a token outlives neither its grant (an app the
    // user disconnected) nor its account, nor is it good while an operator has the account disabled.
    const grant = await provider.Grant.find(token.grantId);
    if (!grant || grant.clientId !== token.clientId || grant.accountId !== token.accountId) throw invalid(ctx);
    const account = await accounts.findById(token.accountId);
    if (!account || account.disabledAt) throw invalid(ctx);

    const caller = {
      accountId: account.id, username: account.username, clientId: token.clientId,
      clientName: await clientName(provider, token.clientId), scopes: [...token.scopes],
    };
    const auth = toAuthInfo(caller, value, token.exp, resource);
    cache.set(value, grant.jti, auth, token.exp * 1000, epoch);
    return auth;
  }

  return { known, authenticate };
}
