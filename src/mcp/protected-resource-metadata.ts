import type { Middleware } from 'koa';
import { MCP_PATH, MCP_RESOURCE_SERVER, mcpResource } from '../../config/resource-server.js';

/**
 * Protected Resource Metadata (RFC 9728): how an MCP host that got a 401 from /mcp finds out which
 * authorization server issues tokens for it and which scopes exist. Hosts try the path-specific URL first
 * and the root one after it; both answer the same document.
 */
export const PRM_PATH = '/.well-known/oauth-protected-resource';
export const PRM_PATHS = [`${PRM_PATH}${MCP_PATH}`, PRM_PATH] as const;

/** Where the metadata of /mcp lives: the `resource_metadata` of every challenge /mcp answers. */
export const resourceMetadataUrl = (issuer: string) => `${issuer}${PRM_PATH}${MCP_PATH}`;

export function protectedResourceMetadata(issuer: string): Middleware {
  const document = {
    resource: mcpResource(issuer),
    authorization_servers: [issuer],
    scopes_supported: [...MCP_RESOURCE_SERVER.scopes],
    bearer_methods_supported: ['header'],
    resource_name: MCP_RESOURCE_SERVER.name,
  };
  return function resourceMetadata(ctx) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      // The error handler gives an empty 405 its body.
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    ctx.body = document;
  };
}
