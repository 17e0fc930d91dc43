/**
 * The scope catalogue: every scope the server knows, with the words a person reads on a consent page.
 * One list, so consent pages, discovery, protected resource metadata and the tools never disagree.
 */
export const OIDC_SCOPES = {
  openid: 'Sign you in with your account',
  profile: 'See your user id and username',
  offline_access: 'Stay connected when you are not using it',
} as const;

/** Scopes of the MCP resource server (/mcp). They live on the resource, not in the provider's OIDC scopes. */
export const MCP_SCOPES = {
  'notes:read': 'Read your notes',
  'notes:write': 'Add and delete your notes',
} as const;

export type McpScope = keyof typeof MCP_SCOPES;

/** What a request without `scope` gets (the seed's authorize URL has none). */
export const DEFAULT_SCOPE = 'openid profile';

const isOidcScope = (scope: string) => Object.hasOwn(OIDC_SCOPES, scope);
export const isMcpScope = (scope: string): scope is McpScope => Object.hasOwn(MCP_SCOPES, scope);

/**
 * The scope an authorization request is processed with. Hosts build their scope from the 401 challenge, the protected
 * resource metadata or the discovery document, and some send scopes of another server: rather than refusing a
 * request the provider would otherwise end with a bare access_denied (nothing grantable), scopes this server does not
 * know are dropped (RFC 6749 §3.3 lets the server ignore requested scope; the token response then names the scope
 * issued). A request for the MCP resource that names none of its scopes (none at all, or only OpenID ones) gets them
 * all, so its token is usable at /mcp; any other request left with nothing gets the seed's default.
 */
export function processedScope(requested: readonly string[], forMcp: boolean): string {
  const known = requested.filter((scope) => isOidcScope(scope) || (forMcp && isMcpScope(scope)));
  if (forMcp && !known.some(isMcpScope)) known.push(...Object.keys(MCP_SCOPES));
  return known.length ? [...new Set(known)].join(' ') : DEFAULT_SCOPE;
}

/** Which claims each scope releases; userinfo answers with exactly these. */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['id', 'username', 'preferred_username'],
};

/** The plain words for any scope, for consent pages. */
export function describeScope(scope: string): string {
  return (OIDC_SCOPES as Record<string, string>)[scope] ?? (MCP_SCOPES as Record<string, string>)[scope] ?? scope;
}
