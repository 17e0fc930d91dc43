import type { CallToolResult } from '@modelcontextprotocol/client';
import { discover, postForm } from './authorization-server.js';
import type { CliConfig } from './config.js';
import { CliError, fail, OAuthError } from './errors.js';
import { login } from './login.js';
import { withMcp } from './mcp-client.js';
import { say, table, tokenLines } from './output.js';
import { isExpired, loginClient, savedLogin } from './refresh.js';
import { deleteLogin, loadLogin, storeFile } from './token-store.js';

/* The commands, each a function of the configuration and its positional arguments. */

export const USAGE = `Usage: mcp-oauth <command> [options]

Commands:
  login                  Log in (the browser sends the code back to this program)
  login --manual         Log in by pasting the code (or the address of the page you land on)
  login --device         Log in by entering a code on another device (device flow)
  whoami                 Show who is logged in, as the server says
  tools                  List the MCP server's tools
  call <tool> [json]     Call a tool with a JSON object of arguments, e.g. call notes_add '{"text":"hi"}'
  status                 Show the saved login: server, user, token expiry (no network)
  logout                 Revoke the tokens at the server and delete them here
  help                   Show this help

Options:
  --server <url>         The server (default: $AUTH_SERVER, or http://localhost:3000)
  --client-id <id>       A client other than the built-in public one (default: $CLIENT_ID)
  --client-secret <s>    That client's secret (default: $CLIENT_SECRET; prefer the variable or .env)
  --no-browser           Print the login address without trying to open a browser
  --show-tokens          Also print the tokens (login, status)
  --debug                Show the details of errors
  --version              Show the version

AUTH_SERVER, CLIENT_ID and CLIENT_SECRET may also come from a .env file in the working directory.
Tokens are saved in $XDG_CONFIG_HOME/mcp-oauth/ (default ~/.config/mcp-oauth/), one file per server.
Exit codes: 0 success, 1 failure, 2 usage error, 3 not logged in or session expired.`;

type Command = (config: CliConfig, args: string[]) => Promise<void>;

const noArguments = (name: string, run: (config: CliConfig) => Promise<void>): Command => async (config, args) => {
  if (args.length) throw fail.usage(`${name} takes no arguments`);
  await run(config);
};

export const COMMANDS: Record<string, Command> = {
  login: noArguments('login', login),
  whoami: noArguments('whoami', whoami),
  tools: noArguments('tools', tools),
  call,
  status: noArguments('status', status),
  logout: noArguments('logout', logout),
};

/** The text of a tool result, each content item on its lines; what is not text, as JSON. */
function resultText(result: CallToolResult): string {
  const parts = result.content.map((item) => (item.type === 'text' ? item.text : JSON.stringify(item)));
  if (!parts.length && result.structuredContent) parts.push(JSON.stringify(result.structuredContent, null, 2));
  return parts.join('\n');
}

async function callTool(config: CliConfig, name: string, input: Record<string, unknown>): Promise<CallToolResult> {
  const result = await withMcp(config, (client) => client.callTool({ name, arguments: input }));
  if (result.isError) throw new CliError(`The tool ${name} failed: ${resultText(result).replace(/\.$/, '')}.`);
  return result;
}

async function whoami(config: CliConfig): Promise<void> {
  const result = await callTool(config, 'whoami', {});
  const me = result.structuredContent as { id?: string; username?: string; client_id?: string; scopes?: string[] } | undefined;
  if (!me?.username) return say(resultText(result));
  say(`Logged in to ${config.server} as ${me.username} (user id ${me.id}), through the client ${me.client_id}, with the scopes: ${me.scopes?.join(' ') || '(none)'}.`);
}

async function tools(config: CliConfig): Promise<void> {
  const { tools: list } = await withMcp(config, (client) => client.listTools());
  if (!list.length) return say('The server has no tools.');
  const width = Math.max(...list.map((t) => t.name.length)) + 2;
  say(...list.map((t) => `${t.name.padEnd(width)}${t.description ?? t.title ?? ''}`));
}

function parseToolArguments(json: string | undefined): Record<string, unknown> {
  if (json === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw fail.badJsonArgs((err as Error).message.replace(/\.$/, ''));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail.badJsonArgs(`got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`);
  }
  return value as Record<string, unknown>;
}

async function call(config: CliConfig, args: string[]): Promise<void> {
  const [name, json, ...extra] = args;
  if (!name) throw fail.usage('call needs the name of a tool, e.g. `mcp-oauth call notes_list`');
  if (extra.length) throw fail.usage('call takes a tool name and one JSON argument; quote the JSON');
  const input = parseToolArguments(json);
  say(resultText(await callTool(config, name, input)));
}

async function status(config: CliConfig): Promise<void> {
  const saved = await savedLogin(config);
  const expiry = saved.expires_at
    ? `${isExpired(saved) ? 'expired' : 'expires'} ${saved.expires_at}${isExpired(saved) ? ' (renewed automatically when next used)' : ''}`
    : 'no expiry given';
  const rows: [string, string][] = [
    ['Server', saved.server],
    ['User', saved.user ? `${saved.user.username} (user id ${saved.user.id})` : 'unknown'],
    ['Client', saved.client_id],
    ['Scopes', saved.scope ?? '(none)'],
    ['Access token', expiry],
    ['Refresh token', saved.refresh_token ? 'saved' : 'none'],
    ['Saved in', storeFile(saved.server)],
  ];
  if (config.flags['show-tokens']) rows.push(...tokenLines(saved));
  say(...table(rows));
}

async function logout(config: CliConfig): Promise<void> {
  const saved = await loadLogin(config.server);
  if (!saved) return say(`You are not logged in to ${config.server}; nothing to do.`);
  const client = loginClient(config, saved);
  const metadata = await discover(config.server);
  if (metadata.revocation_endpoint) {
    // The refresh token first: revoking it ends the grant, and with it every token issued under it.
    const tokens = [[saved.refresh_token, 'refresh_token'], [saved.access_token, 'access_token']] as const;
    for (const [token, hint] of tokens) {
      if (!token) continue;
      try {
        await postForm(config.server, metadata.revocation_endpoint, client, { token, token_type_hint: hint });
      } catch (err) {
        if (err instanceof OAuthError) {
          throw fail.revokeRefused(err.error, storeFile(config.server), err);
        }
        throw err;
      }
    }
  }
  await deleteLogin(config.server);
  say(`Logged out of ${config.server}: the tokens were revoked and deleted.`);
}
