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

/** What a request for the MCP resource without `scope` gets. */
export const DEFAULT_MCP_SCOPE = Object.keys(MCP_SCOPES).join(' ');

/** Which claims each scope releases; userinfo answers with exactly these. */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['id', 'username', 'preferred_username'],
};

/** The plain words for any scope, for consent pages. */
export function describeScope(scope: string): string {
  return (OIDC_SCOPES as Record<string, string>)[scope] ?? (MCP_SCOPES as Record<string, string>)[scope] ?? scope;
}
