import type { Middleware } from 'koa';
import { Problem } from '../http/problem.js';

/**
 * POST /oauth/clients while CLIENT_REGISTRATION=closed. The provider's registration endpoint is off then (and not in
 * discovery); a host that posts to the old address anyway learns why in RFC 7591's error format, rather than from a
 * bare 404. access_denied: RFC 7591 names no code for a closed registration, and this is OAuth's own word for "the
 * server refuses", which every OAuth client library knows.
 */
export const refuseClientRegistration: Middleware = async function refuseClientRegistration(ctx, next) {
  if (ctx.method !== 'POST') return next();
  throw new Problem(403, 'access_denied', 'this server does not register clients: identify the client by the https URL '
    + 'of its Client ID Metadata Document, or ask the operator of this server to register it');
};
