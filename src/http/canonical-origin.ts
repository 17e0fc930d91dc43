import type Koa from 'koa';

/**
 * The issuer is the one source of truth for our public URL. oidc-provider builds endpoint URLs (discovery,
 * redirects, audiences) from the request's Host and protocol; pinning them to the issuer means no Host or
 * X-Forwarded-Host header can make the server advertise someone else's address. They are pinned once, on the
 * app's request prototype (every ctx.request of this app inherits from it), not on each request object.
 */
export function pinCanonicalOrigin(koa: Koa, issuer: string): void {
  const { protocol, host, hostname, origin } = new URL(issuer);
  Object.defineProperties(koa.request, {
    protocol: { value: protocol.slice(0, -1) },
    host: { value: host },
    hostname: { value: hostname },
    origin: { value: origin },
  });
}
