import type Provider from 'oidc-provider';
import { MCP_SCOPES } from '../../config/scopes.js';

/**
 * Discovery's scopes_supported lists the provider's OpenID scopes only: the MCP scopes belong to the resource server
 * and must stay out of the provider's `scopes` (the consent prompt would then ask for them forever). But RFC 8414
 * lists every scope the authorization server supports, and hosts that find no scopes elsewhere build their request
 * from this list: so they are added to the document itself, after the provider has drawn it.
 */
export function advertiseResourceScopes(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { scopes_supported?: unknown } | undefined;
    if (ctx.oidc?.route === 'discovery' && Array.isArray(body?.scopes_supported)) {
      body.scopes_supported = [...new Set([...body.scopes_supported, ...Object.keys(MCP_SCOPES)])];
    }
  });
}
