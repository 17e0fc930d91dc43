import { CLI_CLIENT_ID } from '../../config/clients.js';
import { discover, tokenRequest } from './authorization-server.js';
import type { CliConfig, Client } from './config.js';
import { fail, OAuthError } from './errors.js';
import { loadLogin, loginFromTokens, saveLogin, type StoredLogin } from './token-store.js';

/*
 * A usable saved login: an access token that has expired (or is about to) is renewed with the refresh token
 * (the new tokens are saved at once, since the server rotates refresh tokens); when that is refused, the
 * session is over and the user is told to log in again.
 */

/** Renew this long before the expiry, so a token does not run out between the check and its use. */
const EXPIRY_MARGIN_MS = 30_000;

export async function savedLogin(config: CliConfig): Promise<StoredLogin> {
  const login = await loadLogin(config.server);
  if (!login) throw fail.notLoggedIn(config.server);
  return login;
}

export function isExpired(login: StoredLogin, now = Date.now()): boolean {
  return login.expires_at !== undefined && !(Date.parse(login.expires_at) - EXPIRY_MARGIN_MS > now);
}

/** The client the login was made with; a confidential one needs its secret configured again. */
export function loginClient(config: CliConfig, login: StoredLogin): Client {
  if (login.client_id === config.client.id) return config.client;
  if (login.client_id === CLI_CLIENT_ID) return { id: CLI_CLIENT_ID };
  throw fail.otherClient(config.server, login.client_id);
}

export async function refreshLogin(config: CliConfig, login: StoredLogin): Promise<StoredLogin> {
  if (!login.refresh_token) throw fail.sessionExpired();
  const client = loginClient(config, login);
  const metadata = await discover(config.server);
  let tokens;
  try {
    tokens = await tokenRequest(config.server, metadata, client, { grant_type: 'refresh_token', refresh_token: login.refresh_token });
  } catch (err) {
    if (err instanceof OAuthError && err.status < 500) throw fail.sessionExpired(err);
    if (err instanceof OAuthError) throw fail.serverError('renew the session', err);
    throw err;
  }
  const renewed = loginFromTokens(config.server, client.id, tokens, login);
  await saveLogin(renewed);
  return renewed;
}

/** The saved login, renewed first when its access token has expired. */
export async function freshLogin(config: CliConfig): Promise<StoredLogin> {
  const login = await savedLogin(config);
  return isExpired(login) ? refreshLogin(config, login) : login;
}
