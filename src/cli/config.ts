import { parseArgs } from 'node:util';
import { config as loadDotenv } from 'dotenv';
import { CLI_CLIENT_ID } from '../../config/clients.js';
import { MCP_PATH } from '../../config/resource-server.js';
import { VERSION } from '../version.js';
import { CliError, EXIT, fail } from './errors.js';

/*
 * What the CLI is told to do: the seed's variables (AUTH_SERVER, CLIENT_ID, CLIENT_SECRET) from the
 * environment or a .env file in the working directory, each overridden by its flag.
 */

/** How the CLI names itself to the MCP server and in --version. */
export const CLIENT_INFO = { name: 'mcp-oauth', version: VERSION };

const DEFAULT_SERVER = 'http://localhost:3000';

export interface Client {
  id: string;
  /** Set for a confidential client such as the seed's client1; never printed. */
  secret?: string;
}

export interface CliConfig {
  /** The authorization server's issuer URL, without a trailing slash; also where /mcp lives. */
  server: string;
  /** The MCP endpoint: the resource every token is requested for. */
  resource: string;
  client: Client;
  /** The pre-registered public client, which may use loopback redirects and the device flow. */
  builtInClient: boolean;
  flags: Flags;
}

export interface Flags {
  server?: string;
  'client-id'?: string;
  'client-secret'?: string;
  manual: boolean;
  device: boolean;
  'no-browser': boolean;
  'show-tokens': boolean;
  debug: boolean;
  help: boolean;
  version: boolean;
}

export interface CommandLine {
  command: string;
  args: string[];
  flags: Flags;
}

const OPTIONS = {
  server: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  manual: { type: 'boolean', default: false },
  device: { type: 'boolean', default: false },
  'no-browser': { type: 'boolean', default: false },
  'show-tokens': { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

export function parseCommandLine(argv: string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's messages go on with advice about `--`; the first sentence is the point.
    throw fail.usage((err as Error).message.split(/\.(?: |$)/)[0]!);
  }
  const [command = 'help', ...args] = parsed.positionals;
  return { command, args, flags: parsed.values };
}

/** The variables of a .env file in the working directory, under those of the real environment. */
export function environment(env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const fromFile: Record<string, string> = {};
  loadDotenv({ quiet: true, processEnv: fromFile });
  return { ...fromFile, ...env };
}

function normalizeServer(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username) {
    throw new CliError(`The server address "${value}" is not an http(s) URL like ${DEFAULT_SERVER}.`, EXIT.USAGE);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function resolveConfig(flags: Flags, env: Record<string, string | undefined>): CliConfig {
  const server = normalizeServer(flags.server ?? (env.AUTH_SERVER || DEFAULT_SERVER));
  const id = flags['client-id'] ?? (env.CLIENT_ID || undefined);
  const secret = flags['client-secret'] ?? (env.CLIENT_SECRET || undefined);
  if (secret && !id) {
    throw new CliError('A client secret is set (CLIENT_SECRET or --client-secret) but no client id; set CLIENT_ID too, or neither to use the built-in client.', EXIT.USAGE);
  }
  const client: Client = secret ? { id: id!, secret } : { id: id ?? CLI_CLIENT_ID };
  return {
    server,
    resource: `${server}${MCP_PATH}`,
    client,
    builtInClient: client.id === CLI_CLIENT_ID && !client.secret,
    flags,
  };
}
