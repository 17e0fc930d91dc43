import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { TokenResponse } from './authorization-server.js';
import { fail } from './errors.js';

/*
 * The saved login: one JSON file per server under $XDG_CONFIG_HOME/mcp-oauth/ (or ~/.config/mcp-oauth/), in a
 * directory only the user may enter (0700), readable only by the user (0600), replaced atomically (a complete
 * temporary file renamed over the old one), so a crash or a concurrent command never leaves half a file.
 */

export interface StoredLogin {
  server: string;
  client_id: string;
  access_token: string;
  token_type: string;
  refresh_token?: string;
  scope?: string;
  /** When the access token expires (ISO 8601); absent when the server did not say. */
  expires_at?: string;
  /** Who logged in, as the MCP server's whoami tool said at login. */
  user?: { id: string; username: string };
}

function storeDirectory(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and to be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.config');
  return join(base, 'mcp-oauth');
}

/** A readable file name for the server, made unique by a hash of its full URL. */
export function storeFile(server: string, env: NodeJS.ProcessEnv = process.env): string {
  const url = new URL(server);
  const readable = `${url.host}${url.pathname}`.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/_+$/, '');
  const hash = createHash('sha256').update(server).digest('hex').slice(0, 8);
  return join(storeDirectory(env), `${readable}-${hash}.json`);
}

export function loginFromTokens(server: string, clientId: string, tokens: TokenResponse, previous?: StoredLogin): StoredLogin {
  return {
    server,
    client_id: clientId,
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    // A refresh response without a new refresh token means the old one stays valid (RFC 6749 §6).
    refresh_token: tokens.refresh_token ?? previous?.refresh_token,
    scope: tokens.scope ?? previous?.scope,
    expires_at: typeof tokens.expires_in === 'number' ? new Date(Date.now() + tokens.expires_in * 1000).toISOString() : undefined,
    user: previous?.user,
  };
}

export async function loadLogin(server: string): Promise<StoredLogin | undefined> {
  const file = storeFile(server);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail.unreadableStore(file, err);
  }
  try {
    const login = JSON.parse(text) as StoredLogin;
    if (typeof login.access_token !== 'string' || login.server !== server) throw new Error('not a saved login for this server');
    return login;
  } catch (err) {
    throw fail.unreadableStore(file, err);
  }
}

export async function saveLogin(login: StoredLogin): Promise<string> {
  const dir = storeDirectory();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = storeFile(login.server);
  const temporary = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(`${JSON.stringify(login, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  return file;
}

export async function deleteLogin(server: string): Promise<void> {
  await rm(storeFile(server), { force: true });
}
