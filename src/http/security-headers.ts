import type { Middleware } from 'koa';

/**
 * Set before the route runs: oidc-provider appends the hash of its own inline scripts (form_post) to an
 * existing script-src, and pages must never be framed or leak codes through the Referer header.
 */
export function securityHeaders(issuer: string): Middleware {
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
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
