import type { Context } from 'koa';
import { MCP_RESOURCE_SERVER } from '../../config/resource-server.js';
import { Problem } from '../http/problem.js';
import { resourceMetadataUrl } from './protected-resource-metadata.js';

/** An RFC 6750 quoted-string: our values hold no quote or backslash, but a challenge must stay parseable. */
const quoted = (value: string) => `"${value.replace(/[\\"]/g, '\\$&')}"`;

function refuse(ctx: Context, status: 401 | 403, error: string, description: string, params: [string, string][]): Problem {
  ctx.set('WWW-Authenticate', `Bearer ${params.map(([name, value]) => `${name}=${quoted(value)}`).join(', ')}`);
  return new Problem(status, error, description);
}

/**
 * The refusals of /mcp (RFC 6750 section 3, as the MCP authorization spec uses them): each sets
 * `WWW-Authenticate: Bearer ...` with `resource_metadata`, which is how a host finds where to get a token (401)
 * or which scopes to step up to (403), and returns the Problem to throw, rendered as `{error, error_description}`.
 */
export function bearerChallenges(issuer: string) {
  const metadata = resourceMetadataUrl(issuer);
  const allScopes = MCP_RESOURCE_SERVER.scopes.join(' ');
  return {
    /** No bearer token at all: no error code in the challenge (RFC 6750 section 3.1), only where to get one. */
    missingToken: (ctx: Context) => refuse(ctx, 401, 'invalid_token',
      'this endpoint needs an access token: send Authorization: Bearer <token> (see WWW-Authenticate for where to get one)',
      [['resource_metadata', metadata], ['scope', allScopes]]),

    invalidToken: (ctx: Context, description: string) => refuse(ctx, 401, 'invalid_token', description,
      [['error', 'invalid_token'], ['error_description', description], ['resource_metadata', metadata]]),

    /** `scope` is what the host should ask for next: what the token has plus what the call needs. */
    insufficientScope: (ctx: Context, scope: string, description: string) => refuse(ctx, 403, 'insufficient_scope', description,
      [['error', 'insufficient_scope'], ['scope', scope], ['resource_metadata', metadata]]),
  };
}

export type BearerChallenges = ReturnType<typeof bearerChallenges>;
