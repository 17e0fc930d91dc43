import type { KoaContextWithOIDC } from 'oidc-provider';

/** The claims of a pushed authorization request, which the provider stores as an unsecured JWT of its parameters. */
function pushedParameters(request: unknown): Record<string, unknown> {
  const payload = typeof request === 'string' ? request.split('.')[1] : undefined;
  if (!payload) return {};
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * The `scope` of an authorization request as the client sent it: in the pushed request it refers to, in the body of
 * a POST, or in the query. The provider's own checks have rewritten ctx.oidc.params.scope by the time an extraParams
 * validator runs (offline_access, for one, is gone unless prompt=consent was sent).
 */
export function sentScope(ctx: KoaContextWithOIDC): string[] {
  const pushed = ctx.oidc.entities.PushedAuthorizationRequest as { request?: unknown } | undefined;
  const source = pushed ? pushedParameters(pushed.request) : ctx.method === 'POST' ? ctx.oidc.body : ctx.query;
  const scope = source?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}
