import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { reach } from './authorization-server.js';
import { CLIENT_INFO, type CliConfig } from './config.js';
import { CliError, fail } from './errors.js';
import { freshLogin, refreshLogin } from './refresh.js';
import type { StoredLogin } from './token-store.js';

/**
 * Calls to the MCP server at <server>/mcp (Streamable HTTP) with the saved access token. A token the server
 * refuses (401) is renewed once and the call made again; the server checks the token before any tool runs,
 * so the retry never repeats a tool's effect. The SDK is loaded only by the commands that need it.
 */

/** The server refused the access token. */
class Unauthorized extends Error {}

async function connected<T>(config: CliConfig, accessToken: string, use: (client: Client) => Promise<T>): Promise<T> {
  const [{ Client }, { StreamableHTTPClientTransport, StreamableHTTPError }, { McpError }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  const transport = new StreamableHTTPClientTransport(new URL(config.resource), {
    requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
    fetch: (url, init) => reach(config.server, url, init),
  });
  const client = new Client(CLIENT_INFO);
  try {
    await client.connect(transport);
    return await use(client);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof StreamableHTTPError) {
      if (err.code === 401) throw new Unauthorized(err.message, { cause: err });
      if (err.code === 404) throw fail.noMcpEndpoint(config.resource, err);
      throw fail.mcpRefused(`HTTP ${err.code}${describeHttpError(err.message)}`, err);
    }
    if (err instanceof McpError) throw fail.mcpRefused(err.message.replace(/^MCP error -?\d+: /, '').replace(/\.$/, ''), err);
    throw err;
  } finally {
    await client.close().catch(() => {});
  }
}

/** The error_description of a JSON error body the SDK quotes in its message, if there is one. */
function describeHttpError(message: string): string {
  const body = message.slice(message.indexOf('{'));
  try {
    const description = (JSON.parse(body) as { error_description?: unknown }).error_description;
    return typeof description === 'string' ? ` (${description.replace(/\.$/, '')})` : '';
  } catch {
    return '';
  }
}

/** Runs `use` with an MCP client signed in as the saved login, renewing the access token when needed. */
export async function withMcp<T>(config: CliConfig, use: (client: Client) => Promise<T>): Promise<T> {
  let login: StoredLogin = await freshLogin(config);
  try {
    return await connected(config, login.access_token, use);
  } catch (err) {
    if (!(err instanceof Unauthorized)) throw err;
  }
  login = await refreshLogin(config, login);
  try {
    return await connected(config, login.access_token, use);
  } catch (err) {
    throw err instanceof Unauthorized ? fail.sessionExpired(err) : err;
  }
}

/** The MCP connection for a login that was just made: no renewal, and a refusal is an error of its own. */
export async function withNewLogin<T>(config: CliConfig, login: StoredLogin, use: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await connected(config, login.access_token, use);
  } catch (err) {
    throw err instanceof Unauthorized ? fail.mcpRefused('it did not accept the new access token', err) : err;
  }
}
