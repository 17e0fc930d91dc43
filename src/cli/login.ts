import { discover, tokenRequest, type ServerMetadata, type TokenResponse } from './authorization-server.js';
import { authorizationRequest, codeFrom, responseFromParams, type AuthorizationRequest } from './authorize-url.js';
import type { CliConfig } from './config.js';
import { pollForTokens, startDeviceAuthorization } from './device-flow.js';
import { fail, OAuthError } from './errors.js';
import { startLoopback } from './loopback.js';
import { readPasted } from './manual-entry.js';
import { withNewLogin } from './mcp-client.js';
import { openBrowser } from './open-browser.js';
import { say, table, tokenLines } from './output.js';
import { loginFromTokens, saveLogin, type StoredLogin } from './token-store.js';

/*
 * `mcp-oauth login`: the authorization code flow with PKCE and a resource indicator, the code caught by a
 * loopback listener (default), pasted by the user (--manual, and always for a configured client such as the
 * seed's client1, whose redirect is the server's /callback page), or the device flow (--device).
 */

/** How long the loopback listener waits for the browser. */
const LOOPBACK_TIMEOUT_MS = 5 * 60_000;

export async function login(config: CliConfig): Promise<void> {
  const { flags } = config;
  if (flags.manual && flags.device) throw fail.usage('Use --manual or --device, not both');
  const metadata = await discover(config.server);
  let tokens: TokenResponse;
  if (flags.device) tokens = await deviceLogin(config, metadata);
  else if (flags.manual || !config.builtInClient) tokens = await manualLogin(config, metadata);
  else tokens = await loopbackLogin(config, metadata);

  const saved: StoredLogin = { ...loginFromTokens(config.server, config.client.id, tokens), user: await whoAmI(config, tokens) };
  const file = await saveLogin(saved);
  say('', `Logged in to ${config.server}${saved.user ? ` as ${saved.user.username}` : ''}; the tokens are saved in ${file}.`);
  if (flags['show-tokens']) say(...table(tokenLines(saved)));
}

function showAuthorizationUrl(config: CliConfig, request: AuthorizationRequest) {
  say('Open this address in your browser to log in:', '', `  ${request.url}`, '');
  return config.flags['no-browser'] ? undefined : openBrowser(request.url, config.flags.debug);
}

async function manualLogin(config: CliConfig, metadata: ServerMetadata): Promise<TokenResponse> {
  const request = authorizationRequest(config, metadata, `${config.server}/callback`);
  await showAuthorizationUrl(config, request);
  const code = codeFrom(await readPasted(), request, metadata.issuer, false);
  return exchangeCode(config, metadata, request, code);
}

async function loopbackLogin(config: CliConfig, metadata: ServerMetadata): Promise<TokenResponse> {
  const loopback = await startLoopback();
  try {
    const request = authorizationRequest(config, metadata, loopback.redirectUri);
    await showAuthorizationUrl(config, request);
    say('Waiting for the browser…');
    return await loopback.receive(
      (params) => exchangeCode(config, metadata, request, codeFrom(responseFromParams(params), request, metadata.issuer, true)),
      LOOPBACK_TIMEOUT_MS,
    );
  } finally {
    loopback.close();
  }
}

async function exchangeCode(config: CliConfig, metadata: ServerMetadata, request: AuthorizationRequest, code: string) {
  try {
    return await tokenRequest(config.server, metadata, config.client, {
      grant_type: 'authorization_code', code, redirect_uri: request.redirectUri, code_verifier: request.verifier,
    });
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    if (err.error === 'invalid_grant') throw fail.badCode(err);
    if (err.error === 'invalid_client') throw fail.badClient(config.client.id, err);
    throw err.status < 500 ? fail.authorizationFailed(err.error, err.description) : fail.serverError('issue the tokens', err);
  }
}

async function deviceLogin(config: CliConfig, metadata: ServerMetadata): Promise<TokenResponse> {
  const device = await startDeviceAuthorization(config, metadata);
  say(`To log in, open ${device.verification_uri} in a browser on any device and enter the code: ${device.user_code}`);
  if (device.verification_uri_complete) say(`(or open ${device.verification_uri_complete}, which fills the code in)`);
  say('Waiting for you to confirm…');
  if (!config.flags['no-browser']) await openBrowser(device.verification_uri_complete ?? device.verification_uri, config.flags.debug);
  return pollForTokens(config, metadata, device);
}

/** Who the new tokens belong to, from the MCP server; a login stands even when it cannot say. */
async function whoAmI(config: CliConfig, tokens: TokenResponse): Promise<StoredLogin['user']> {
  try {
    const result = await withNewLogin(config, loginFromTokens(config.server, config.client.id, tokens),
      (client) => client.callTool({ name: 'whoami', arguments: {} }));
    const user = result.structuredContent as { id?: unknown; username?: unknown } | undefined;
    if (typeof user?.id === 'string' && typeof user.username === 'string') return { id: user.id, username: user.username };
  } catch (err) {
    if (config.flags.debug) process.stderr.write(`(could not ask the MCP server who is logged in: ${err instanceof Error ? err.message : String(err)})\n`);
  }
  return undefined;
}
