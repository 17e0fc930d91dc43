import type { AuthProvider, Client } from '@modelcontextprotocol/client';
import { reach } from './authorization-server.js';
import { CLIENT_INFO, type CliConfig } from './config.js';
import { CliError, fail } from './errors.js';
import { freshLogin, refreshLogin } from './refresh.js';
import type { StoredLogin } from './token-store.js';

/*
 * Calls to the MCP server at <server>/mcp (Streamable HTTP) with the saved access token. The client negotiates
 * the protocol revision: 2026-07-28 with a server that offers it, else the 2025 initialize handshake. A token the
 * server refuses (401) is renewed once and the same request sent again; the server checks the token before any
 * tool runs, so the retry never repeats a tool's effect. The SDK is loaded only by the commands that need it.
 */

/** The server refused the access token. */
class Unauthorized extends Error {}

async function connected<T>(config: CliConfig, authProvider: AuthProvider, use: (client: Client) => Promise<T>): Promise<T> {
  const sdk = await import('@modelcontextprotocol/client');
  const transport = new sdk.StreamableHTTPClientTransport(new URL(config.resource), {
    authProvider,
    fetch: (url, init) => reach(config.server, url, init),
  });
  const client = new sdk.Client(CLIENT_INFO, { versionNegotiation: { mode: 'auto' } });
  try {
    await client.connect(transport);
    return await use(client);
  } catch (err) {
    // The negotiation probe wraps what the CLI's own fetch threw (server unreachable, no answer in time).
    const ours = causes(err).find((e) => e instanceof CliError);
    if (ours) throw ours;
    // A refused token is UnauthorizedError when there is no renewal to try, SdkHttpError 401 when the renewed
    // one was refused too; the same in either protocol era (the probe passes the transport's 401 through).
    if (err instanceof sdk.UnauthorizedError || (err instanceof sdk.SdkHttpError && err.status === 401)) {
      throw new Unauthorized(err.message, { cause: err });
    }
    if (err instanceof sdk.SdkHttpError) {
      // A probe answered 404 falls back to initialize, whose 404 lands here.
      if (err.status === 404) throw fail.noMcpEndpoint(config.resource, err);
      throw fail.mcpRefused(`HTTP ${err.status}${describeHttpError(err.data.text)}`, err);
    }
    // Without an OAuth provider the transport cannot step up, so a 403 insufficient_scope is this error.
    if (err instanceof sdk.InsufficientScopeError) {
      throw fail.mcpRefused(`HTTP 403 (insufficient_scope${err.requiredScope ? `: it needs the scopes ${err.requiredScope}` : ''})`, err);
    }
    if (err instanceof sdk.ProtocolError || err instanceof sdk.SdkError) throw fail.mcpRefused(err.message.replace(/\.$/, ''), err);
    throw err;
  } finally {
    await client.close().catch(() => {});
  }
}

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e !== undefined && chain.length < 5; e = e instanceof Error ? e.cause : undefined) chain.push(e);
  return chain;
}

/** The error_description of the JSON error body of an HTTP refusal, if there is one. */
function describeHttpError(body: unknown): string {
  try {
    const description = (JSON.parse(String(body)) as { error_description?: unknown }).error_description;
    return typeof description === 'string' ? ` (${description.replace(/\.$/, '')})` : '';
  } catch {
    return '';
  }
}

/** Runs `use` with an MCP client signed in as the saved login, renewing the access token when needed. */
export async function withMcp<T>(config: CliConfig, use: (client: Client) => Promise<T>): Promise<T> {
  let login: StoredLogin = await freshLogin(config);
  let renewal: Promise<void> | undefined;
  const authProvider: AuthProvider = {
    token: async () => login.access_token,
    // Renewed once per command however many requests were refused: the server rotates refresh tokens, so a
    // second renewal would present a spent one. A request refused again after it gets SdkHttpError 401.
    onUnauthorized: () => renewal ??= refreshLogin(config, login).then((renewed) => { login = renewed; }),
  };
  try {
    return await connected(config, authProvider, use);
  } catch (err) {
    throw err instanceof Unauthorized ? fail.sessionExpired(err) : err;
  }
}

/** The MCP connection for a login that was just made: no renewal, and a refusal is an error of its own. */
export async function withNewLogin<T>(config: CliConfig, login: StoredLogin, use: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await connected(config, { token: async () => login.access_token }, use);
  } catch (err) {
    throw err instanceof Unauthorized ? fail.mcpRefused('it did not accept the new access token', err) : err;
  }
}
