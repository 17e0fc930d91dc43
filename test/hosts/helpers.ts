import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { MODERN_VERSION } from '../helpers/mcp.js';
import type { TestServer } from '../helpers/server.js';
import { signInAndAllow } from '../helpers/third-party.js';

/** What the tests of real MCP hosts (npm packages we do not write) share: the user, the wire, the runtimes. */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The revisions /mcp serves: 2026-07-28 (server/discover, no initialize) and the 2025 ones the SDK lists. */
export const SERVER_REVISIONS: readonly string[] = [...SUPPORTED_PROTOCOL_VERSIONS, MODERN_VERSION];

/** One request the server answered, as far as its headers tell (the body is the app's to read). */
export interface WireEntry {
  method: string;
  path: string;
  status: number;
  /** The MCP-Protocol-Version header, if any. */
  version?: string;
  /** The Mcp-Method header of the 2026-07-28 revision, if any. */
  mcpMethod?: string;
  bearer: boolean;
}

/**
 * Records every request `server` answers, next to the app's own listener (which it does not disturb: only headers
 * are read), so a test can say what a client actually sent when it fails, and which revision it spoke.
 */
export function recordWire(server: TestServer) {
  const entries: WireEntry[] = [];
  const listener = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    res.once('finish', () => {
      const header = (name: string) => (typeof req.headers[name] === 'string' ? req.headers[name] as string : undefined);
      entries.push({
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://x').pathname,
        status: res.statusCode,
        version: header('mcp-protocol-version'),
        mcpMethod: header('mcp-method'),
        bearer: /^Bearer /i.test(header('authorization') ?? ''),
      });
    });
  };
  server.running.server.on('request', listener);
  return {
    entries,
    /** The requests to /mcp. */
    mcp: () => entries.filter((e) => e.path === '/mcp'),
    /** The log, one request a line, for failure messages and the report. */
    toString: () => entries.map((e) => `${e.method} ${e.path} → ${e.status}${e.version ? ` (MCP-Protocol-Version ${e.version})` : ''}${e.mcpMethod ? ` [${e.mcpMethod}]` : ''}${e.bearer ? ' with a bearer' : ''}`).join('\n'),
    stop: () => server.running.server.off('request', listener),
  };
}
export type Wire = ReturnType<typeof recordWire>;

/**
 * Fails unless the client's authenticated MCP requests that the server answered 200 carried one revision the
 * server supports, and returns it: the revision actually spoken on the wire, whatever the client told its own side.
 */
export function spokenRevision(wire: Wire): string {
  // initialize carries no MCP-Protocol-Version: the revision is what it negotiates, and the requests after it say.
  const answered = wire.mcp().filter((e) => e.method === 'POST' && e.bearer && e.status === 200 && e.version);
  expect(answered, `no authenticated MCP request was answered 200:\n${wire}`).to.not.be.empty;
  const versions = [...new Set(answered.map((e) => e.version))];
  expect(versions, `the revisions of the answered requests:\n${wire}`).to.have.length(1);
  expect(SERVER_REVISIONS, `the revision spoken:\n${wire}`).to.include(versions[0]);
  return versions[0]!;
}

/**
 * The person in front of the browser the host opened: follows `authorizationUrl` on this server with a cookie-keeping
 * user agent, signs in, allows, and returns the address the server sent the browser back to (the host's redirect URI,
 * with the code), after checking it is not an error.
 */
export async function approve(issuer: string, authorizationUrl: string, user: { username: string; password: string }): Promise<URL> {
  const browser = new Browser(issuer);
  const start = await browser.follow(authorizationUrl);
  const { step } = await signInAndAllow(browser, start, user);
  expect(step.url.origin, `the browser should leave for the host, but is at ${step.url.href}`).to.not.equal(issuer);
  expect(step.url.searchParams.get('error'), step.url.href).to.equal(null);
  expect(step.url.searchParams.get('code'), step.url.href).to.be.a('string').and.not.be.empty;
  return step.url;
}

/**
 * The "browser" the hosts under test open (BROWSER=this script, as xdg-open honours it): it only writes the URL to
 * the file named by OPENED_URLS, for the test to play the user with.
 */
export const RECORD_URL = join(REPO, 'test/hosts/record-url.sh');

/** The first URL the host opened, once it has opened one (polls the OPENED_URLS file). */
export async function openedUrl(file: string, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(file) ? await readFile(file, 'utf8') : '';
    const first = text.split('\n')[0];
    if (first) return first;
    if (Date.now() > until) throw new Error(`the host opened no browser within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A Node the hosts that need one newer than CI's can run on: the LTS that test/smoke/runtimes.sh installs (the same
 * version, read from that script), from the npm registry's `node` package, kept under node_modules/.cache.
 */
export async function nodeLts(): Promise<string> {
  const version = /^NODE_LTS=(\S+)$/m.exec(readFileSync(join(REPO, 'test/smoke/runtimes.sh'), 'utf8'))?.[1];
  if (!version) throw new Error('test/smoke/runtimes.sh names no NODE_LTS');
  const prefix = join(REPO, 'node_modules/.cache/node-lts', version);
  const bin = join(prefix, 'node_modules/node/bin/node');
  if (!existsSync(bin)) {
    await promisify(execFile)('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
      `node@${version}`], { cwd: REPO });
  }
  return bin;
}

/**
 * Fails unless `answer` (a tools/call result as the host hands it on) is whoami's for `user` through `clientId`, with
 * both MCP scopes, in text and in structure; the app is named by the name it registered.
 */
export function expectWhoami(answer: object, user: { username: string; userId: string }, clientId: string) {
  const result = answer as { content?: unknown; structuredContent?: { client_name?: unknown }; isError?: unknown };
  expect(result.isError ?? false, JSON.stringify(result)).to.equal(false);
  const { client_name: clientName, ...rest } = result.structuredContent ?? {};
  expect(rest, JSON.stringify(result)).to.deep.equal({
    id: user.userId,
    username: user.username,
    client_id: clientId,
    scopes: ['notes:read', 'notes:write'],
  });
  expect(clientName).to.be.a('string').and.not.equal('');
  expect(JSON.stringify(result.content)).to.include(`You are ${user.username} (user id ${user.userId})`);
}

/**
 * An app's OAuth client provider, as the MCP SDK (v1, under @langchain/mcp-adapters) and @ai-sdk/mcp both define it
 * (the same shape, each package with its own types): a public client on a loopback redirect URI that keeps what the
 * library hands it in memory, and keeps the URL it is asked to send the user to.
 */
export class MemoryOAuthProvider<Info, Tokens, ServerInformation = never> {
  info: Info | undefined;
  saved: Tokens | undefined;
  server: ServerInformation | undefined;
  verifier = '';
  expectedState: string | undefined;
  readonly opened: URL[] = [];

  constructor(readonly redirectUrl: string, readonly clientName: string) {}

  get clientMetadata() {
    return {
      redirect_uris: [this.redirectUrl],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: this.clientName,
    };
  }

  clientInformation() { return this.info; }
  saveClientInformation(info: Info) { this.info = info; }
  isClientInformationDynamicallyRegistered() { return true; }
  tokens() { return this.saved; }
  saveTokens(tokens: Tokens) { this.saved = tokens; }
  authorizationServerInformation() { return this.server; }
  saveAuthorizationServerInformation(info: ServerInformation) { this.server = info; }
  saveCodeVerifier(verifier: string) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
  state() { this.expectedState = randomUUID(); return this.expectedState; }
  storedState() { return this.expectedState; }
  redirectToAuthorization(url: URL) { this.opened.push(url); }

  /** The one authorization URL the library sent the user to, checked as any MCP host's must be. */
  authorizationUrl(issuer: string): URL {
    expect(this.opened, 'redirectToAuthorization').to.have.length(1);
    const url = this.opened[0]!;
    expect(`${url.origin}${url.pathname}`).to.equal(`${issuer}/oauth/authorize`);
    expect(url.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(url.searchParams.get('resource')).to.equal(`${issuer}/mcp`);
    expect(url.searchParams.get('redirect_uri')).to.equal(this.redirectUrl);
    return url;
  }
}
