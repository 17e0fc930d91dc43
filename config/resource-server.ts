import { MCP_SCOPES } from './scopes.js';

/** The MCP endpoint is the one protected resource: tokens for it are audience-bound to this URL. */
export const MCP_PATH = '/mcp';

export const mcpResource = (issuer: string) => `${issuer}${MCP_PATH}`;

export const MCP_RESOURCE_SERVER = {
  name: 'MCP notes server',
  scopes: Object.keys(MCP_SCOPES),
  /** Opaque: every use is looked up, so revocation takes effect at once. */
  accessTokenFormat: 'opaque',
  accessTokenTTL: 60 * 60,
} as const;

/**
 * Whether a `resource` parameter names our MCP endpoint. Hosts differ in how they spell it: a trailing slash,
 * an upper-case scheme or host (RFC 3986 makes both case-insensitive) all mean the same resource.
 */
export function isMcpResource(indicator: string, issuer: string): boolean {
  if (!URL.canParse(indicator)) return false;
  const url = new URL(indicator);
  if (url.search || url.hash) return false;
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
  return `${url.origin}${path}` === mcpResource(issuer);
}
