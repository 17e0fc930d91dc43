import type { Middleware } from 'koa';

/**
 * The headers every answer carries, set before the route runs: oidc-provider appends the hash of its own inline scripts (form_post) to an
 * existing script-src, and pages must never be framed or leak codes through the Referer header.
 */
export function securityHeaderList(issuer: string): [string, string][] {
  const https = issuer.startsWith('https:');
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return [
    ['Content-Security-Policy', csp],
    ['X-Frame-Options', 'DENY'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ...(https ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as [string, string]] : []),
  ];
}

/** Sets securityHeaderList's headers on every answer. */
export function securityHeaders(issuer: string): Middleware {
  const headers = securityHeaderList(issuer);
  return async (ctx, next) => {
    for (const [name, value] of headers) ctx.set(name, value);
    await next();
  };
}
