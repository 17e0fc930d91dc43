import type { Client } from './config.js';
import { fail, isNetworkError, isTimeout, OAuthError } from './errors.js';

/*
 * The CLI's HTTP to the authorization server: discovery (RFC 8414), and form POSTs to its endpoints with the
 * client's credentials, answered with JSON or an OAuth error.
 */

const REQUEST_TIMEOUT_MS = 30_000;

export interface ServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint?: string;
  device_authorization_endpoint?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
}

/** fetch, with network failures and timeouts turned into one sentence naming the server. */
export async function reach(server: string, url: string | URL, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    if (isTimeout(err)) throw fail.timeout(server, err);
    if (isNetworkError(err)) throw fail.unreachable(server, err);
    throw err;
  }
}

export async function discover(server: string): Promise<ServerMetadata> {
  const res = await reach(server, `${server}/.well-known/oauth-authorization-server`, { headers: { accept: 'application/json' } });
  let metadata: Partial<ServerMetadata> | undefined;
  try {
    metadata = res.ok ? await res.json() as Partial<ServerMetadata> : undefined;
  } catch (err) {
    throw fail.notAuthorizationServer(server, err);
  }
  if (!metadata || typeof metadata.authorization_endpoint !== 'string' || typeof metadata.token_endpoint !== 'string') {
    throw fail.notAuthorizationServer(server, new Error(`HTTP ${res.status}`));
  }
  // RFC 8414 §3.3: the metadata must name the issuer it was fetched from.
  if (metadata.issuer !== server) throw fail.issuerMismatch(server, String(metadata.issuer));
  return metadata as ServerMetadata;
}

/** POSTs a form to an endpoint as `client` (client_secret_post for a confidential client, as the seed does). */
export async function postForm(server: string, endpoint: string, client: Client, fields: Record<string, string>): Promise<unknown> {
  const body = new URLSearchParams({ ...fields, client_id: client.id });
  if (client.secret) body.set('client_secret', client.secret);
  const res = await reach(server, endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  const error = (json as { error?: unknown } | undefined)?.error;
  if (!res.ok || typeof error === 'string') {
    const description = (json as { error_description?: unknown } | undefined)?.error_description;
    throw new OAuthError(typeof error === 'string' ? error : `http_${res.status}`, typeof description === 'string' ? description : undefined, res.status);
  }
  if (json === undefined) throw new OAuthError('invalid_response', 'the server did not answer with JSON', res.status);
  return json;
}

export async function tokenRequest(server: string, metadata: ServerMetadata, client: Client, fields: Record<string, string>): Promise<TokenResponse> {
  const tokens = await postForm(server, metadata.token_endpoint, client, fields) as Partial<TokenResponse>;
  if (typeof tokens.access_token !== 'string' || !/^bearer$/i.test(String(tokens.token_type))) {
    throw new OAuthError('invalid_response', 'the token response has no bearer access token', 200);
  }
  return tokens as TokenResponse;
}
