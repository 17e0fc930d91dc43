import type Provider from 'oidc-provider';
import type { Client, errors } from 'oidc-provider';
import type { AfterStep } from '../http/route-table.js';
import { ABUSE_LIMITS } from '../../config/abuse-limits.js';
import type { AbuseLimits } from './abuse-limits.js';
import { currentRequest, wrapClientLookup } from '../oauth/provider-internals.js';
import { refuseTooMany } from './too-many-requests.js';

/** The provider's routes where a client authenticates (with its secret, or its id alone when it is public), and the event each emits on an error. */
const CLIENT_AUTHENTICATION_ERRORS = {
  token: 'grant.error',
  introspection: 'introspection.error',
  revocation: 'revocation.error',
  device_authorization: 'device_authorization.error',
  pushed_authorization_request: 'pushed_authorization_request.error',
} as const;

const authenticatesClients = (route: string) => Object.hasOwn(CLIENT_AUTHENTICATION_ERRORS, route);

/**
 * Errors that a caller without the client's credentials can cause: a wrong secret (`invalid_client`) for any
 * client, and a wrong code, refresh token, device code or PKCE verifier (`invalid_grant`) for a public client,
 * whose id is all it takes to call the token endpoint. An authenticated confidential client's own
 * `invalid_grant`s (a user submitting a callback twice) are its users' business, not guessing.
 */
function isGuess(err: errors.OIDCProviderError, client: Client): boolean {
  return err.error === 'invalid_client' || (err.error === 'invalid_grant' && client.clientAuthMethod === 'none');
}

/**
 * Limits guessing at the endpoints where clients authenticate: the errors above count per client and client
 * address, and while an address is over the limit it is refused for that client (429 `too_many_requests` with
 * Retry-After) before the client is authenticated, so no further guess is tested and a correct secret resets
 * nothing. The count is per address too because client ids are public: a count per client alone would let
 * anyone lock a client out for all its users.
 *
 * The provider reads the request body itself (parsing it in front is unsupported), and looks the client up
 * right after, before checking its secret or grant: that lookup is where each request is counted, or refused.
 * It sees the request through the provider's own per-request context (provider-internals.ts). The returned step
 * runs once the provider has answered: it uncounts every request that did not end in one of the errors above.
 */
export function limitClientErrors(provider: Provider, limits: AbuseLimits): AfterStep {
  const attempts = new WeakMap<object, Attempt>();

  wrapClientLookup(provider, (find) => async (id) => {
    const client = await find(id);
    const ctx = currentRequest();
    // Only the lookup that authenticates the caller; later ones (say, of an introspected token's client) are not.
    if (client && ctx && authenticatesClients(ctx.oidc.route) && !ctx.oidc.client && !attempts.has(ctx)) {
      const wait = await limits.clientRequest(client.clientId, ctx.ip);
      if (wait) refuseTooMany(ctx, wait, ABUSE_LIMITS.failedClientRequests.counts);
      attempts.set(ctx, { clientId: client.clientId, failed: false });
    }
    return client;
  });

  for (const event of Object.values(CLIENT_AUTHENTICATION_ERRORS)) {
    // The type definitions declare each event on its own; all of these have grant.error's (ctx, err) listener.
    provider.on(event as 'grant.error', (ctx, err) => {
      const attempt = attempts.get(ctx);
      if (attempt && ctx.oidc.client && isGuess(err, ctx.oidc.client)) attempt.failed = true;
    });
  }

  return async function uncountPassedClientRequests(ctx) {
    const attempt = attempts.get(ctx);
    if (attempt && !attempt.failed) await limits.clientRequestPassed(attempt.clientId, ctx.ip);
  };
}

interface Attempt {
  clientId: string;
  failed: boolean;
}
