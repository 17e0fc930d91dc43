import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { expect } from 'chai';
import { Browser } from './helpers/browser.js';
import { expectMcpAccepts } from './helpers/mcp.js';
import { basicAuth, form, json, registerUser } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { authorize, hostRedirect, interactionPage, introspect, RESOURCE_SERVER_ENV, servedDocuments, type Host } from './helpers/third-party.js';

/**
 * The popular MCP hosts, each as it registers (its exact Dynamic Client Registration body or Client ID Metadata
 * Document, from docs/mcp-hosts-research.md: the hosts' source, or captures of their traffic) and as it asks for
 * access: its redirect URI (often on another loopback port than the one registered), the scope it builds, whether
 * it sends `resource` at all, and how it refreshes. Every one must end with a token /mcp accepts, refreshed.
 */

type Registration = { dcr: Record<string, unknown> } | { cimd: Record<string, unknown> };

interface HostCase {
  host: string;
  registration: Registration;
  /** The redirect URI of the authorization request. */
  redirectUri: string;
  /** The scope of the authorization request (undefined: none). */
  scope?: string;
  /** Whether the authorization and token requests carry resource=<issuer>/mcp. */
  resource: boolean;
  /** What the refresh request adds to grant_type, refresh_token and the client's credentials. */
  refresh: { resource?: boolean; scope?: boolean };
}

/** ChatGPT's signing key: its metadata document authenticates it with private_key_jwt against this key set. */
const chatgptKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const CHATGPT_JWKS = { keys: [{ ...chatgptKey.publicKey.export({ format: 'jwk' }), kid: 'chatgpt-1', use: 'sig', alg: 'RS256' }] };

const PRM_SCOPE = 'notes:read notes:write';
const AS_SCOPE = 'openid profile offline_access notes:read notes:write';
/** Codex appends a callback id to its loopback path: base64url(sha256(server URL)), first 9 bytes. */
const codexCallbackId = (mcpUrl: string) => createHash('sha256').update(mcpUrl).digest().subarray(0, 9).toString('base64url');

function hostCases(mcpUrl: string): HostCase[] {
  return [
    {
      host: 'claude.ai connector (DCR, confidential, client_secret_post)',
      registration: { dcr: {
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'], token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'Claude',
      } },
      redirectUri: 'https://claude.ai/api/mcp/auth_callback', scope: `${PRM_SCOPE} offline_access`, resource: true, refresh: { resource: true },
    },
    {
      host: 'claude.ai connector (Client ID Metadata Document)',
      registration: { cimd: {
        client_id: 'https://claude.ai/oauth/mcp-oauth-client-metadata', client_name: 'Claude',
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'], grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], token_endpoint_auth_method: 'none',
      } },
      redirectUri: 'https://claude.ai/api/mcp/auth_callback', scope: `${PRM_SCOPE} offline_access`, resource: true, refresh: { resource: true },
    },
    {
      host: 'Claude Code (DCR)',
      registration: { dcr: {
        client_name: 'Claude Code (notes)', redirect_uris: ['http://localhost:58969/callback'],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
      } },
      redirectUri: 'http://localhost:58969/callback', scope: `${PRM_SCOPE} offline_access`, resource: true, refresh: { resource: true },
    },
    {
      host: 'Claude Code (Client ID Metadata Document, no port in it)',
      registration: { cimd: {
        client_id: 'https://claude.ai/oauth/claude-code-client-metadata', client_name: 'Claude Code', client_uri: 'https://claude.ai',
        redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback'], grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], token_endpoint_auth_method: 'none',
      } },
      redirectUri: 'http://localhost:58969/callback', scope: `${PRM_SCOPE} offline_access`, resource: true, refresh: { resource: true },
    },
    {
      host: 'ChatGPT (DCR)',
      registration: { dcr: {
        client_name: 'ChatGPT', redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect'],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
      } },
      redirectUri: 'https://chatgpt.com/connector_platform_oauth_redirect', scope: PRM_SCOPE, resource: true, refresh: { resource: true },
    },
    {
      host: 'ChatGPT (Client ID Metadata Document, private_key_jwt)',
      registration: { cimd: {
        client_id: 'https://chatgpt.com/oauth/client.json', client_uri: 'https://chatgpt.com/',
        redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect'], token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'], grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], client_name: 'ChatGPT', logo_uri: 'https://persistent.oaistatic.com/sonic/misc/openai-logo.png',
        token_endpoint_auth_signing_alg: 'RS256', jwks_uri: 'https://chatgpt.com/oauth/jwks.json',
      } },
      redirectUri: 'https://chatgpt.com/connector_platform_oauth_redirect', scope: `${PRM_SCOPE} offline_access`, resource: true, refresh: { resource: true },
    },
    {
      host: 'Cursor (DCR, its scheme beside https and loopback; scope from discovery, no resource)',
      registration: { dcr: {
        client_name: 'Cursor', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback',
          'https://www.cursor.com/agents/mcp/oauth/callback', 'http://localhost:8787/callback'],
      } },
      redirectUri: 'http://localhost:8787/callback', scope: AS_SCOPE, resource: false, refresh: {},
    },
    {
      host: 'Cursor (before 3.10.17: its private-use scheme)',
      registration: { dcr: {
        client_name: 'Cursor', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback',
          'https://www.cursor.com/agents/mcp/oauth/callback', 'http://localhost:8787/callback'],
      } },
      redirectUri: 'cursor://anysphere.cursor-mcp/oauth/callback', scope: AS_SCOPE, resource: false, refresh: {},
    },
    {
      host: 'VS Code (DCR, native, on another port than 33418)',
      registration: { dcr: {
        client_name: 'Visual Studio Code', client_uri: 'https://code.visualstudio.com',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        redirect_uris: ['https://insiders.vscode.dev/redirect', 'https://vscode.dev/redirect', 'http://127.0.0.1/', 'http://127.0.0.1:33418/'],
        scope: PRM_SCOPE, token_endpoint_auth_method: 'none', application_type: 'native',
      } },
      redirectUri: 'http://127.0.0.1:51234/', scope: PRM_SCOPE, resource: true, refresh: { resource: true },
    },
    {
      host: 'VS Code (Client ID Metadata Document)',
      registration: { cimd: {
        client_name: 'Visual Studio Code', logo_uri: 'https://code.visualstudio.com/assets/branding/code-stable.png',
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'], token_endpoint_auth_method: 'none', application_type: 'native',
        client_id: 'https://vscode.dev/oauth/client-metadata.json', client_uri: 'https://vscode.dev/product',
        redirect_uris: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'],
      } },
      redirectUri: 'http://127.0.0.1:51234/', scope: PRM_SCOPE, resource: true, refresh: { resource: true },
    },
    {
      host: 'Codex CLI (DCR; refreshes without resource)',
      registration: { dcr: {
        client_name: 'Codex', redirect_uris: ['http://127.0.0.1:57463/callback'], grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none', response_types: ['code'],
      } },
      redirectUri: 'http://127.0.0.1:57463/callback', scope: PRM_SCOPE, resource: true, refresh: {},
    },
    {
      host: 'Codex CLI (DCR, newer: a callback id in the path)',
      registration: { dcr: {
        client_name: 'Codex', redirect_uris: [`http://127.0.0.1:57464/callback/${codexCallbackId(mcpUrl)}`],
        grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', response_types: ['code'],
      } },
      redirectUri: `http://127.0.0.1:57464/callback/${codexCallbackId(mcpUrl)}`, scope: AS_SCOPE, resource: true, refresh: {},
    },
    {
      host: 'Codex CLI (Client ID Metadata Document)',
      registration: { cimd: {
        client_id: 'https://chatgpt.com/oauth/codex/client.json', client_name: 'Codex',
        redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'], response_types: ['code'], token_endpoint_auth_method: 'none',
      } },
      redirectUri: 'http://127.0.0.1:57465/callback', scope: PRM_SCOPE, resource: true, refresh: {},
    },
    {
      host: 'Gemini CLI (DCR with an empty scope; no scope asked)',
      registration: { dcr: {
        client_name: 'Gemini CLI MCP Client', redirect_uris: ['http://localhost:65290/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: '',
      } },
      redirectUri: 'http://localhost:65290/oauth/callback', resource: true, refresh: { resource: true },
    },
    {
      host: 'Gemini CLI (DCR with the scopes; refreshes with scope and resource)',
      registration: { dcr: {
        client_name: 'Gemini CLI MCP Client', redirect_uris: ['http://localhost:65291/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: PRM_SCOPE,
      } },
      redirectUri: 'http://localhost:65291/oauth/callback', scope: AS_SCOPE, resource: true, refresh: { resource: true, scope: true },
    },
    {
      host: 'Goose (DCR, rmcp\'s body)',
      registration: { dcr: {
        client_name: 'goose', redirect_uris: ['http://127.0.0.1:41234/oauth_callback'], grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none', response_types: ['code'],
      } },
      redirectUri: 'http://127.0.0.1:41234/oauth_callback', scope: PRM_SCOPE, resource: true, refresh: {},
    },
    {
      host: 'Zed (DCR without the refresh_token grant; refreshes anyway)',
      registration: { dcr: {
        client_name: 'Zed', redirect_uris: ['http://127.0.0.1:41235/callback'], grant_types: ['authorization_code'],
        response_types: ['code'], token_endpoint_auth_method: 'none',
      } },
      redirectUri: 'http://127.0.0.1:41235/callback', scope: PRM_SCOPE, resource: true, refresh: { resource: true },
    },
    {
      host: 'Zed (Client ID Metadata Document without the refresh_token grant)',
      registration: { cimd: {
        client_id: 'https://zed.dev/oauth/client-metadata.json', client_name: 'Zed', redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none',
      } },
      redirectUri: 'http://127.0.0.1:41236/callback', scope: PRM_SCOPE, resource: true, refresh: { resource: true },
    },
    {
      host: 'LibreChat (DCR, confidential, client_secret_basic)',
      registration: { dcr: {
        client_name: 'LibreChat MCP Client', redirect_uris: ['http://localhost:3080/api/mcp/notes/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic', scope: PRM_SCOPE,
      } },
      redirectUri: 'http://localhost:3080/api/mcp/notes/oauth/callback', scope: PRM_SCOPE, resource: true, refresh: { resource: true },
    },
    {
      host: 'MCP Inspector (DCR)',
      registration: { dcr: {
        redirect_uris: ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug'],
        token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        client_name: 'MCP Inspector', client_uri: 'https://github.com/modelcontextprotocol/inspector', scope: PRM_SCOPE,
      } },
      redirectUri: 'http://localhost:6274/oauth/callback/debug', scope: PRM_SCOPE, resource: true, refresh: { resource: true },
    },
    {
      host: 'MCP Inspector (DCR with an empty scope)',
      registration: { dcr: {
        redirect_uris: ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug'],
        token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        client_name: 'MCP Inspector', client_uri: 'https://github.com/modelcontextprotocol/inspector', scope: '',
      } },
      redirectUri: 'http://localhost:6274/oauth/callback', resource: true, refresh: { resource: true },
    },
    {
      host: 'mcp-remote (DCR; Claude Desktop\'s bridge)',
      registration: { dcr: {
        redirect_uris: ['http://localhost:3335/oauth/callback'], token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'MCP CLI Client',
        client_uri: 'https://github.com/modelcontextprotocol/mcp-cli', software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
        software_version: '0.1.x', scope: PRM_SCOPE,
      } },
      redirectUri: 'http://localhost:3335/oauth/callback', scope: PRM_SCOPE, resource: true, refresh: { resource: true },
    },
    {
      host: 'mcp-remote (DCR with its fallback scope openid email profile, then the MCP scopes)',
      registration: { dcr: {
        redirect_uris: ['http://localhost:3336/oauth/callback'], token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'MCP CLI Client',
        client_uri: 'https://github.com/modelcontextprotocol/mcp-cli', software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
        software_version: '0.1.x', scope: 'openid email profile',
      } },
      redirectUri: 'http://localhost:3336/oauth/callback', scope: `${PRM_SCOPE} offline_access`, resource: true, refresh: { resource: true, scope: true },
    },
  ];
}

describe('popular MCP hosts, each as it registers, signs in and refreshes', () => {
  const documents = new Map<string, unknown>([['https://chatgpt.com/oauth/jwks.json', CHATGPT_JWKS]]);
  const server = useTestServer(RESOURCE_SERVER_ENV, { outboundFetch: servedDocuments(documents) });

  /** ChatGPT's private_key_jwt client assertion (RFC 7523), signed with its key. */
  function clientAssertion(clientId: string) {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${part({ alg: 'RS256', kid: 'chatgpt-1', typ: 'JWT' })}.${part({
      iss: clientId, sub: clientId, aud: `${server.url}/oauth/token`, jti: randomUUID(), iat: now, exp: now + 60,
    })}`;
    return `${input}.${sign('sha256', Buffer.from(input), chatgptKey.privateKey).toString('base64url')}`;
  }

  interface Registered { clientId: string; method: string; secret?: string }

  async function registerAs(registration: Registration): Promise<Registered> {
    if ('cimd' in registration) {
      documents.set(String(registration.cimd.client_id), registration.cimd);
      return { clientId: String(registration.cimd.client_id), method: String(registration.cimd.token_endpoint_auth_method) };
    }
    const res = await fetch(`${server.url}/oauth/clients`, json(registration.dcr));
    expect(res.status, await res.clone().text()).to.equal(201);
    const client = await res.json();
    return { clientId: client.client_id, method: client.token_endpoint_auth_method, secret: client.client_secret };
  }

  /** A token request authenticated as the client registered itself to be. */
  function tokenRequest(client: Registered, fields: Record<string, string>) {
    const headers: Record<string, string> = {};
    const body = { ...fields };
    if (client.method === 'client_secret_basic') headers.authorization = basicAuth(client.clientId, client.secret!);
    else if (client.method === 'client_secret_post') Object.assign(body, { client_id: client.clientId, client_secret: client.secret! });
    else if (client.method === 'private_key_jwt') {
      Object.assign(body, {
        client_id: client.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: clientAssertion(client.clientId),
      });
    } else body.client_id = client.clientId;
    return fetch(`${server.url}/oauth/token`, form(body, headers));
  }

  /** The access token's audience and MCP scopes; /mcp must take it, for this client, on both protocol eras. */
  async function checkForMcp(accessToken: string, clientId: string) {
    const details = await introspect(server.url, accessToken);
    expect(details.aud, 'the audience').to.equal(`${server.url}/mcp`);
    expect(String(details.scope).split(' ').sort()).to.deep.equal(['notes:read', 'notes:write']);
    await expectMcpAccepts(server.url, accessToken, clientId);
  }

  for (const index of hostCases('http://localhost:3000/mcp').keys()) {
    const title = hostCases('http://localhost:3000/mcp')[index]!.host;
    it(title, async () => {
      const c = hostCases(`${server.url}/mcp`)[index]!;
      const client = await registerAs(c.registration);
      const resource = `${server.url}/mcp`;
      const host: Host = { clientId: client.clientId, name: c.host, redirectUri: c.redirectUri };
      const browser = new Browser(server.url);
      const user = await registerUser(server.url);

      const started = await authorize(browser, host, { scope: c.scope, resource: c.resource ? resource : undefined });
      const login = await interactionPage(started);
      let step = await browser.submit(login.html, '/login', { username: user.username, password: user.password });
      const consent = await interactionPage(step);
      expect(consent.html, 'the consent page').to.include('/consent"');
      step = await browser.submit(consent.html, '/consent', {});
      const code = hostRedirect(step, host, started.state).get('code');
      expect(code, 'a code').to.be.a('string');

      const exchanged = await tokenRequest(client, {
        grant_type: 'authorization_code', code: code!, redirect_uri: c.redirectUri, code_verifier: started.verifier,
        ...(c.resource ? { resource } : {}),
      });
      expect(exchanged.status, await exchanged.clone().text()).to.equal(200);
      const tokens = await exchanged.json();
      expect(tokens.refresh_token, 'a refresh token').to.be.a('string');
      await checkForMcp(tokens.access_token, client.clientId);

      const refreshed = await tokenRequest(client, {
        grant_type: 'refresh_token', refresh_token: tokens.refresh_token,
        ...(c.refresh.resource ? { resource } : {}), ...(c.refresh.scope && c.scope ? { scope: c.scope } : {}),
      });
      expect(refreshed.status, await refreshed.clone().text()).to.equal(200);
      await checkForMcp((await refreshed.json()).access_token, client.clientId);
    });
  }
});
