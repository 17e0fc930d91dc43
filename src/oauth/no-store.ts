import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Answers of these provider endpoints, named as the provider names its routes, are never cached: for endpoints
 * that do not say so themselves. Decided once the provider has answered, by the route its router chose, so
 * every spelling of the path it accepts (`/OAUTH/REVOKE/`) is covered, not only the one written here.
 */
export function noStore(...routes: string[]): Middleware {
  return async (ctx, next) => {
    await next();
    const route = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
    if (route !== undefined && routes.includes(route)) ctx.set('Cache-Control', 'no-store');
  };
}
