import { createHash, randomBytes } from 'node:crypto';
import type { ServerMetadata } from './authorization-server.js';
import type { CliConfig } from './config.js';
import { fail } from './errors.js';

/*
 * The authorization request (RFC 6749 §4.1.1 with PKCE S256, RFC 7636, and a resource indicator, RFC 8707)
 * and the checks on its response: the state must be this login's, the issuer this server (RFC 9207).
 */

export interface AuthorizationRequest {
  url: string;
  redirectUri: string;
  state: string;
  verifier: string;
}

const random = () => randomBytes(32).toString('base64url');

export function authorizationRequest(config: CliConfig, metadata: ServerMetadata, redirectUri: string): AuthorizationRequest {
  const state = random();
  const verifier = random();
  const url = new URL(metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: config.client.id,
    redirect_uri: redirectUri,
    response_type: 'code',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: config.resource,
  }).toString();
  return { url: url.href, redirectUri, state, verifier };
}

/** What came back to the redirect URI, or what the user pasted: only `code` when the user pasted a bare code. */
export type AuthorizationResponse = Partial<Record<'code' | 'state' | 'iss' | 'error' | 'error_description', string>>;

export function responseFromParams(params: URLSearchParams): AuthorizationResponse {
  const pick = (name: string) => params.get(name) ?? undefined;
  return { code: pick('code'), state: pick('state'), iss: pick('iss'), error: pick('error'), error_description: pick('error_description') };
}

/**
 * The code of a response to `request`, or the reason there is none. A response that carries a state must
 * carry this login's; only a bare pasted code has none (the seed's manual entry), and PKCE still binds it.
 */
export function codeFrom(response: AuthorizationResponse, request: AuthorizationRequest, issuer: string, stateRequired: boolean): string {
  if ((response.state !== undefined || stateRequired) && response.state !== request.state) throw fail.stateMismatch();
  if (response.iss !== undefined && response.iss !== issuer) throw fail.issMismatch(issuer, response.iss);
  if (response.error === 'access_denied') throw fail.accessDenied();
  if (response.error) throw fail.authorizationFailed(response.error, response.error_description);
  if (!response.code) throw fail.noCode();
  return response.code;
}
