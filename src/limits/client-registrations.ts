import type Provider from 'oidc-provider';
import { ABUSE_LIMITS } from '../../config/abuse-limits.js';
import type { AbuseLimits } from './abuse-limits.js';
import { currentRequest, wrapModelAdapter } from '../oauth/provider-internals.js';
import { refuseTooMany } from './too-many-requests.js';

/**
 * Open Dynamic Client Registration, counted per client IP: 429 `too_many_requests` with Retry-After, in OAuth's
 * JSON, once an address has registered too many clients.
 *
 * Counted where the provider stores a client that its registration endpoint registered, never by the request's
 * path: the provider's router matches paths without regard to case and with or without a trailing slash
 * (`/OAUTH/clients/` registers too), and whatever spelling it routes to that endpoint ends here. A registration
 * the provider refuses (bad metadata) stores nothing and is not counted.
 */
export function limitClientRegistrations(provider: Provider, limits: AbuseLimits): void {
  wrapModelAdapter(provider, 'Client', ({ upsert }) => ({
    upsert: async (id, payload, expiresIn) => {
    const ctx = currentRequest();
    if (ctx?.oidc.route === 'registration') {
      const wait = await limits.clientRegistration(ctx.ip);
      if (wait) refuseTooMany(ctx, wait, ABUSE_LIMITS.clientRegistrations.counts);
    }
      return upsert(id, payload, expiresIn);
    },
  }));
}
