import type { Middleware } from 'koa';

/**
 * The issuer is the one source of truth for our public URL. oidc-provider builds endpoint URLs (discovery,
 * redirects, audiences) from the request's Host and protocol; pinning them to the issuer means no Host or
 * X-Forwarded-Host header can make the server advertise someone else's address.
 */
export function canonicalOrigin(issuer: string): Middleware {
  const { protocol, host, hostname, origin } = new URL(issuer);
  const pinned = {
    protocol: { value: protocol.slice(0, -1) },
    host: { value: host },
    hostname: { value: hostname },
    origin: { value: origin },
  };
  return (ctx, next) => {
    Object.defineProperties(ctx.request, pinned);
    return next();
  };
}
