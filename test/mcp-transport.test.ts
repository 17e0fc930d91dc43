import { expect } from 'chai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Browser } from './helpers/browser.js';
import {
  callTool, expectJsonRpcError, mcpHeaders, mcpPost, mcpToken, noteTexts, request, toolCall, type ToolResult,
} from './helpers/mcp.js';
import { freePort } from './helpers/redis.js';
import { getRaw, loggedInBrowser } from './helpers/seed.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';

/*
 * /mcp as a Streamable HTTP endpoint: the checks at its edge (CORS, Origin and Host, methods, bodies), the
 * transport's own answers, and interop with the SDK's client, with a given token and with its own OAuth.
 */

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const SERVER_ERROR = -32000;

describe('MCP endpoint: transport', () => {
  const server = useTestServer();
  let token: string;
  before(async () => {
    ({ token } = await mcpToken(server.url));
  });

  describe('CORS, for browser-based hosts', () => {
    const preflight = (path: string, method: string, headers: string) => fetch(`${server.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://host.example', 'access-control-request-method': method, 'access-control-request-headers': headers },
    });

    it('a preflight of POST /mcp with the MCP headers of both revisions succeeds', async () => {
      const res = await preflight('/mcp', 'POST', 'authorization, content-type, mcp-protocol-version, mcp-method, mcp-name');
      expect(res.status).to.equal(204);
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
      expect(res.headers.get('access-control-allow-methods')).to.include('POST');
      expect(res.headers.get('access-control-allow-headers')?.split(', ')).to.include.members([
        'authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id', 'mcp-method', 'mcp-name',
      ]);
    });

    it('a preflight of GET /mcp succeeds too, so that a browser host reads the 405 rather than a CORS failure', async () => {
      const res = await preflight('/mcp', 'GET', 'authorization, mcp-protocol-version');
      expect(res.status).to.equal(204);
      expect(res.headers.get('access-control-allow-methods')).to.include('GET');
    });

    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      it(`a preflight of GET ${path} with MCP-Protocol-Version (as the SDK's discovery sends it) succeeds`, async () => {
        const res = await preflight(path, 'GET', 'mcp-protocol-version');
        expect(res.status).to.equal(204);
        expect(res.headers.get('access-control-allow-origin')).to.equal('*');
        expect(res.headers.get('access-control-allow-headers')).to.include('mcp-protocol-version');
      });
    }

    it('the metadata answers a cross-origin GET with Access-Control-Allow-Origin', async () => {
      const res = await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`, { headers: { origin: 'https://host.example' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
    });

    it('responses of /mcp expose WWW-Authenticate and Mcp-Session-Id to scripts', async () => {
      const res = await mcpPost(server.url, undefined, toolCall('whoami'), { origin: server.url });
      expect(res.status).to.equal(401);
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
      expect(res.headers.get('access-control-expose-headers')?.split(', ')).to.include.members(['WWW-Authenticate', 'Mcp-Session-Id']);
    });
  });

  describe('Origin and Host (DNS-rebinding protection)', () => {
    it("the issuer's own origin may call", async () => {
      const res = await mcpPost(server.url, token, toolCall('whoami'), { origin: server.url });
      expect(res.status).to.equal(200);
    });

    it('another origin → 403 with a JSON-RPC error, even with a valid token, and nothing runs', async () => {
      for (const origin of ['http://evil.example', 'null', `${server.url}.evil.example`, server.url.replace('localhost', '127.0.0.1')]) {
        const res = await mcpPost(server.url, token, toolCall('notes_add', { text: `from ${origin}` }), { origin });
        const message = await expectJsonRpcError(res, 403, SERVER_ERROR);
        expect(message, origin).to.include(`Origin ${origin}`);
      }
      expect((await callTool(server.url, token, 'notes_list')).structuredContent?.notes).to.deep.equal([]);
    });

    it('a Host header other than the issuer\'s → 403 with a JSON-RPC error, before anything else', async () => {
      const { host } = new URL(server.url);
      const refused = await getRaw(server.url, '/mcp', { host: 'attacker.example' });
      expect(refused.status).to.equal(403);
      expect(refused.type).to.match(/^application\/json/);
      expect(JSON.parse(refused.body)).to.deep.equal({
        jsonrpc: '2.0',
        error: { code: SERVER_ERROR, message: `Host attacker.example is not allowed: use ${server.url} (or the operator can add it to MCP_ALLOWED_HOSTS)` },
      });
      for (const other of [`127.0.0.1:${new URL(server.url).port}`, `${host}@attacker.example`, 'localhost']) {
        expect((await getRaw(server.url, '/mcp', { host: other })).status, other).to.equal(403);
      }
      // The same request with the issuer's host gets as far as the bearer check.
      expect((await getRaw(server.url, '/mcp', { host: host.toUpperCase() })).status).to.equal(401);
    });
  });

  describe('methods', () => {
    for (const method of ['GET', 'DELETE', 'PUT', 'PATCH']) {
      it(`${method} /mcp → 405 with Allow: POST and a JSON-RPC error (stateless: no stream, no session)`, async () => {
        const res = await fetch(`${server.url}/mcp`, { method, headers: mcpHeaders(token, { accept: 'text/event-stream' }) });
        expect(res.headers.get('allow')).to.equal('POST');
        expect(await expectJsonRpcError(res, 405, SERVER_ERROR)).to.include(method);
      });
    }

    for (const method of ['GET', 'DELETE', 'PUT']) {
      it(`${method} /mcp without a token → 401 with the challenge, not 405 (RFC 6750: authentication comes first)`, async () => {
        const res = await fetch(`${server.url}/mcp`, { method, headers: { accept: 'text/event-stream' } });
        expect(res.status).to.equal(401);
        expect(res.headers.get('allow')).to.equal(null);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/);
      });
    }

    it('GET /mcp with a revoked or unknown token → 401 invalid_token, not 405', async () => {
      const res = await fetch(`${server.url}/mcp`, { headers: { accept: 'text/event-stream', authorization: 'Bearer not-a-token' } });
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.include('error="invalid_token"');
    });

    it('only /mcp itself: /mcp/ and /MCP are not the endpoint', async () => {
      for (const path of ['/mcp/', '/MCP']) {
        const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: mcpHeaders(token), body: JSON.stringify(toolCall('whoami')) });
        expect(res.status, path).to.equal(404);
      }
    });
  });

  describe('bodies', () => {
    it('malformed JSON → 400 JSON-RPC parse error', async () => {
      await expectJsonRpcError(await mcpPost(server.url, token, '{"jsonrpc": "2.0", "id": 1,'), 400, PARSE_ERROR);
    });

    it('bytes that are not UTF-8 → 400 JSON-RPC parse error', async () => {
      const res = await fetch(`${server.url}/mcp`, { method: 'POST', headers: mcpHeaders(token), body: new Uint8Array([0x7b, 0xff, 0x7d]) });
      await expectJsonRpcError(res, 400, PARSE_ERROR);
    });

    it('JSON that is not a JSON-RPC message → 400 from the SDK', async () => {
      const res = await mcpPost(server.url, token, { hello: 'world' });
      expect(res.status).to.equal(400);
      expect((await res.json()).error.code).to.equal(PARSE_ERROR);
    });

    it('a body that is not declared as JSON → 415 JSON-RPC invalid request', async () => {
      const res = await mcpPost(server.url, token, JSON.stringify(toolCall('whoami')), { 'content-type': 'text/plain' });
      await expectJsonRpcError(res, 415, INVALID_REQUEST);
    });

    it('a body over 1 MiB → 413 JSON-RPC invalid request, and the connection stays usable', async () => {
      const huge = JSON.stringify(toolCall('notes_add', { text: 'x'.repeat(1024 * 1024) }));
      await expectJsonRpcError(await mcpPost(server.url, token, huge), 413, INVALID_REQUEST);
      expect((await callTool(server.url, token, 'whoami')).isError).to.equal(undefined);
    });

    it('a notification → 202 with no body', async () => {
      const res = await mcpPost(server.url, token, { jsonrpc: '2.0', method: 'notifications/initialized' });
      expect(res.status).to.equal(202);
      expect(await res.text()).to.equal('');
    });

    it('a client that does not accept both JSON and SSE → 406 from the SDK', async () => {
      const res = await mcpPost(server.url, token, request('tools/list'), { accept: 'application/json' });
      expect(res.status).to.equal(406);
    });

    it('an unsupported MCP-Protocol-Version → 400 from the SDK', async () => {
      const res = await mcpPost(server.url, token, request('tools/list'), { 'mcp-protocol-version': '1999-01-01' });
      expect(res.status).to.equal(400);
      expect((await res.json()).error.message).to.include('Unsupported protocol version');
    });

    it('answers are never cached', async () => {
      const res = await mcpPost(server.url, token, request('tools/list'));
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
    });
  });

  describe("the SDK's v1 client (the legacy line many hosts still ship; the v2 client is in mcp-host-journey.test.ts)", () => {
    it('with a token in requestInit: connects, lists the tools and calls them', async () => {
      const client = new Client({ name: 'sdk-interop-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      });
      await client.connect(transport);
      try {
        expect(client.getServerVersion()?.name).to.equal('mcp-oauth-server');
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).to.include.members(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
        const added = await client.callTool({ name: 'notes_add', arguments: { text: 'via the SDK client' } }) as ToolResult;
        expect(added.isError).to.not.equal(true);
        const listed = await client.callTool({ name: 'notes_list', arguments: {} }) as ToolResult;
        expect(noteTexts(listed)).to.include('via the SDK client');
        const tooLong = await client.callTool({ name: 'notes_add', arguments: { text: 'x'.repeat(2001) } }) as ToolResult;
        expect(tooLong.isError).to.equal(true);
      } finally {
        await client.close();
      }
    });

    it('with its own OAuth: from the 401 it discovers the metadata and the authorization server, and gets in', async () => {
      const { browser, user } = await loggedInBrowser(server.url);
      const provider = new FirstPartyOAuth(server.url, browser);
      const url = new URL(`${server.url}/mcp`);

      // The first connect meets the 401, discovers everything, and sends the "user" to the authorization page.
      const first = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
      let refused: unknown;
      await first.connect(new StreamableHTTPClientTransport(url, { authProvider: provider })).catch((err: unknown) => { refused = err; });
      expect(refused).to.be.instanceOf(UnauthorizedError);
      const authorization = provider.authorizationUrl!;
      expect(authorization.searchParams.get('resource')).to.equal(`${server.url}/mcp`);
      expect(authorization.searchParams.get('scope')).to.equal('notes:read notes:write');
      expect(authorization.searchParams.get('code_challenge_method')).to.equal('S256');

      // The signed-in user is sent straight back with a code (client1 is first-party: no consent page).
      const { url: callback } = await browser.follow(authorization.href);
      expect(callback.pathname).to.equal('/callback');
      const finishing = new StreamableHTTPClientTransport(url, { authProvider: provider });
      await finishing.finishAuth(callback.searchParams.get('code')!);
      expect(provider.saved?.scope).to.equal('notes:read notes:write');

      const client = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
      try {
        const me = await client.callTool({ name: 'whoami', arguments: {} }) as ToolResult;
        expect(me.structuredContent).to.include({ id: user.userId, client_id: 'client1' });
      } finally {
        await client.close();
      }
    });
  });
});

describe('MCP endpoint: MCP_ALLOWED_ORIGINS and MCP_ALLOWED_HOSTS', () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startTestServer({
      PORT: String(port), MCP_ALLOWED_ORIGINS: 'https://inspector.example, http://localhost:6274/', MCP_ALLOWED_HOSTS: `127.0.0.1:${port}`,
    });
  });
  after(() => server?.close());

  it('a listed origin may call; others still may not', async () => {
    const { token } = await mcpToken(server.url);
    for (const origin of ['https://inspector.example', 'http://localhost:6274']) {
      expect((await mcpPost(server.url, token, toolCall('whoami'), { origin })).status, origin).to.equal(200);
    }
    await expectJsonRpcError(await mcpPost(server.url, token, toolCall('whoami'), { origin: 'https://other.example' }), 403, SERVER_ERROR);
  });

  it('a listed host reaches /mcp (here: the address an instance listens on)', async () => {
    const { token } = await mcpToken(server.url);
    expect((await callTool(base, token, 'whoami')).isError).to.equal(undefined);
  });
});

/**
 * The SDK client's OAuth side, as a host would implement it, for first-party client1 (registered, so no
 * dynamic registration): it keeps what the SDK hands it, and records where it was asked to send the user.
 */
class FirstPartyOAuth implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  saved: OAuthTokens | undefined;
  private verifier = '';

  constructor(private readonly issuer: string, readonly browser: Browser) {}

  get redirectUrl() {
    return `${this.issuer}/callback`;
  }

  get clientMetadata() {
    return { redirect_uris: [this.redirectUrl], client_name: 'client1' };
  }

  clientInformation(): OAuthClientInformationMixed {
    return { client_id: 'client1', client_secret: 'secret1' };
  }

  tokens() {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }

  codeVerifier() {
    return this.verifier;
  }
}
