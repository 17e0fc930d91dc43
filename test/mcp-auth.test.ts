import { createServer, connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { expectOAuthError } from './helpers/assertions.js';
import {
  callTool, expectToolError, MCP_SCOPES, mcpPost, mcpToken, noteTexts, request, revoke, rpc, rpcError, toolCall,
} from './helpers/mcp.js';
import { freePort, requireRedis, uniquePrefix } from './helpers/redis.js';
import { tokensFor } from './helpers/seed.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';

/*
 * /mcp as an OAuth resource server: which tokens it takes (only live ones issued for it), what it answers
 * to everything else, the scope step-up, and the metadata that lets a host find out how to get a token.
 */

describe('MCP endpoint: authorization', () => {
  const server = useTestServer();
  const metadataUrl = () => `${server.url}/.well-known/oauth-protected-resource/mcp`;

  /** 401 with a Bearer invalid_token challenge naming the metadata, and the same error as JSON. */
  async function expectInvalidToken(res: Response, description: RegExp = /./) {
    const challenge = res.headers.get('www-authenticate');
    const body = await expectOAuthError(res, 401, 'invalid_token');
    expect(challenge).to.match(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="([^"]+)"$/);
    expect(challenge).to.include(`resource_metadata="${metadataUrl()}"`);
    expect(body.error_description).to.match(description);
  }

  describe('tokens it refuses', () => {
    it('no token → 401 whose challenge names the metadata and the scopes, with no error code', async () => {
      const res = await mcpPost(server.url, undefined, toolCall('whoami'));
      expect(res.headers.get('www-authenticate'))
        .to.equal(`Bearer resource_metadata="${metadataUrl()}", scope="${MCP_SCOPES}"`);
      await expectOAuthError(res, 401, 'invalid_token');
    });

    it('another scheme, or "Bearer" without a token → the same 401 as no token', async () => {
      for (const authorization of ['Basic Y2xpZW50MTpzZWNyZXQx', 'Bearer', 'Bearer ', 'Bearer a b']) {
        const res = await mcpPost(server.url, undefined, toolCall('whoami'), { authorization });
        expect(res.headers.get('www-authenticate'), authorization).to.equal(`Bearer resource_metadata="${metadataUrl()}", scope="${MCP_SCOPES}"`);
        await expectOAuthError(res, 401, 'invalid_token');
      }
    });

    it('an unknown token → 401 invalid_token', async () => {
      await expectInvalidToken(await mcpPost(server.url, 'not-a-token-we-issued', toolCall('whoami')), /unknown, expired or revoked/);
    });

    it('a refresh token presented as an access token → 401 invalid_token', async () => {
      const { tokens } = await mcpToken(server.url);
      await expectInvalidToken(await mcpPost(server.url, tokens.refresh_token, toolCall('whoami')));
    });

    it('a revoked token → 401 invalid_token at once, though it worked a moment before', async () => {
      const { token } = await mcpToken(server.url);
      expect((await callTool(server.url, token, 'whoami')).isError).to.equal(undefined);
      expect((await revoke(server.url, token)).status).to.equal(200);
      await expectInvalidToken(await mcpPost(server.url, token, toolCall('whoami')), /unknown, expired or revoked/);
    });

    it('a token of the whole grant revoked through its refresh token → 401 invalid_token', async () => {
      const { token, tokens } = await mcpToken(server.url);
      expect((await revoke(server.url, tokens.refresh_token)).status).to.equal(200);
      await expectInvalidToken(await mcpPost(server.url, token, toolCall('whoami')));
    });

    it('a token whose grant is gone (an app the user disconnected) → 401 invalid_token, though the token is still stored', async () => {
      const { token } = await mcpToken(server.url);
      const { provider } = server.server.running.app;
      const stored = await provider.AccessToken.find(token);
      expect(stored, 'the token is stored').to.not.equal(undefined);
      await (await provider.Grant.find(stored!.grantId))!.destroy();
      expect(await provider.AccessToken.find(token), 'the token itself is still there').to.not.equal(undefined);
      await expectInvalidToken(await mcpPost(server.url, token, toolCall('whoami')), /unknown, expired or revoked/);
    });

    it('a token issued without resource=/mcp (the seed flow, for userinfo) → 401 invalid_token naming the audience', async () => {
      const { tokens } = await tokensFor(server.url);
      const userinfo = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(userinfo.status, 'the token itself is good').to.equal(200);
      await expectInvalidToken(await mcpPost(server.url, tokens.access_token, toolCall('whoami')), new RegExp(`not issued for ${server.url}/mcp`));
    });

    it('the refusal comes before the body is read: a malformed body without a token is still a 401', async () => {
      const res = await mcpPost(server.url, undefined, '{"not json');
      await expectOAuthError(res, 401, 'invalid_token');
    });
  });

  describe('scopes', () => {
    it('a request naming the resource but no scope gets both MCP scopes', async () => {
      const { tokens, token } = await mcpToken(server.url);
      expect(tokens.scope).to.equal(MCP_SCOPES);
      expect((await callTool(server.url, token, 'whoami')).structuredContent?.scopes).to.deep.equal(MCP_SCOPES.split(' '));
    });

    it('a notes:read token lists notes, but notes_add → 403 insufficient_scope asking for read and write', async () => {
      const { token } = await mcpToken(server.url, 'notes:read');
      expect((await callTool(server.url, token, 'notes_list')).isError).to.equal(undefined);
      const res = await mcpPost(server.url, token, toolCall('notes_add', { text: 'not allowed' }));
      expect(res.headers.get('www-authenticate'))
        .to.equal(`Bearer error="insufficient_scope", scope="notes:read notes:write", resource_metadata="${metadataUrl()}"`);
      const body = await expectOAuthError(res, 403, 'insufficient_scope');
      expect(body.error_description).to.include('notes:write');
      // Nothing was written.
      expect((await callTool(server.url, token, 'notes_list')).structuredContent?.notes).to.deep.equal([]);
    });

    it('notes_delete needs notes:write as well; whoami needs no scope beyond a token for /mcp', async () => {
      const { token } = await mcpToken(server.url, 'notes:read');
      await expectOAuthError(await mcpPost(server.url, token, toolCall('notes_delete', { id: 'x' })), 403, 'insufficient_scope');
      expect((await callTool(server.url, token, 'whoami')).structuredContent?.scopes).to.deep.equal(['notes:read']);
    });

    it('a batch hiding a write among reads → 403 for the whole batch, nothing runs', async () => {
      const { token } = await mcpToken(server.url, 'notes:read');
      const res = await mcpPost(server.url, token, [toolCall('notes_list'), toolCall('notes_add', { text: 'sneaked in' })]);
      await expectOAuthError(res, 403, 'insufficient_scope');
      expect((await callTool(server.url, token, 'notes_list')).structuredContent?.notes).to.deep.equal([]);
    });

    it('a notes:write token without notes:read → 403 for notes_list, asking for both', async () => {
      const { token } = await mcpToken(server.url, 'notes:write');
      expect((await callTool(server.url, token, 'notes_add', { text: 'write only' })).isError).to.equal(undefined);
      const res = await mcpPost(server.url, token, toolCall('notes_list'));
      expect(res.headers.get('www-authenticate')).to.include('scope="notes:write notes:read"');
      await expectOAuthError(res, 403, 'insufficient_scope');
    });

    it('calls that are not tools/call, and unknown tools, need no particular scope', async () => {
      const { token } = await mcpToken(server.url, 'notes:read');
      const listed = await rpc(server.url, token, request('tools/list'));
      expect(listed.tools).to.have.length(4);
      // Not refused for scope: the SDK answers that the tool does not exist.
      expect((await rpcError(server.url, token, toolCall('no_such_tool'))).message).to.include('no_such_tool');
    });
  });

  describe('protected resource metadata (RFC 9728)', () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      it(`GET ${path} names this resource, its authorization server and its scopes`, async () => {
        const res = await fetch(`${server.url}${path}`);
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        expect(await res.json()).to.deep.equal({
          resource: `${server.url}/mcp`,
          authorization_servers: [server.url],
          scopes_supported: ['notes:read', 'notes:write'],
          bearer_methods_supported: ['header'],
          resource_name: 'MCP notes server',
        });
      });
    }

    it('its authorization server publishes the metadata an MCP host needs (S256, the resource scopes)', async () => {
      const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
      expect(res.status).to.equal(200);
      const metadata = await res.json();
      expect(metadata.issuer).to.equal(server.url);
      expect(metadata.code_challenge_methods_supported).to.include('S256');
    });

    it('POST to the metadata → 405 with Allow: GET, HEAD', async () => {
      const res = await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`, { method: 'POST' });
      expect(res.headers.get('allow')).to.equal('GET, HEAD');
      await expectOAuthError(res, 405, 'invalid_request');
    });
  });
});

/** A TCP relay to Redis that a test can cut: its connections die and new ones are refused, as in an outage. */
async function cuttableRelay(redisUrl: string) {
  const target = new URL(redisUrl);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {}).on('close', () => sockets.delete(socket));
  };
  const relay = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const url = new URL(redisUrl);
  url.hostname = '127.0.0.1';
  url.port = String((relay.address() as { port: number }).port);
  return {
    url: url.href,
    cut() {
      relay.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

describe('MCP endpoint on Redis', function () {
  this.timeout(15000);
  const redis = requireRedis();
  const open: TestServer[] = [];
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
  });

  it('a token revoked on one instance stops working on the other at once', async () => {
    const prefix = uniquePrefix();
    const portA = await freePort();
    const portB = await freePort();
    const issuer = `http://localhost:${portA}`;
    // One public URL (ISSUER) for both, as behind a load balancer; B is reached at its own address here.
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, ISSUER: issuer };
    open.push(await startTestServer({ ...env, PORT: String(portA) }));
    open.push(await startTestServer({ ...env, PORT: String(portB), MCP_ALLOWED_HOSTS: `127.0.0.1:${portB}` }));
    const baseB = `http://127.0.0.1:${portB}`;

    const { token } = await mcpToken(issuer);
    const added = await callTool(baseB, token, 'notes_add', { text: 'written on B' });
    expect(added.isError).to.equal(undefined);
    const listedOnA = await callTool(issuer, token, 'notes_list');
    expect(noteTexts(listedOnA)).to.deep.equal(['written on B']);

    expect((await revoke(issuer, token)).status).to.equal(200);
    // B had the token cached; the revocation reaches it through Redis pub/sub, within a second.
    const revokedAt = Date.now();
    let res = await mcpPost(baseB, token, toolCall('notes_list'));
    while (res.status === 200 && Date.now() - revokedAt < 1000) {
      await new Promise((r) => setTimeout(r, 20));
      res = await mcpPost(baseB, token, toolCall('notes_list'));
    }
    expect(res.headers.get('www-authenticate')).to.match(/^Bearer error="invalid_token"/);
    await expectOAuthError(res, 401, 'invalid_token');
  });

  it('a storage outage never looks like a bad token: 503 for a token not yet checked, a "try again" tool error for a cached one', async () => {
    const relay = await cuttableRelay(redis.url);
    const server = await startTestServer({ REDIS_URL: relay.url, REDIS_PREFIX: uniquePrefix() });
    open.push(server);
    const { token } = await mcpToken(server.url);
    const { token: unseen } = await mcpToken(server.url);
    expect((await callTool(server.url, token, 'notes_add', { text: 'before the outage' })).isError).to.equal(undefined);

    relay.cut();
    const started = Date.now();
    const res = await mcpPost(server.url, unseen, toolCall('notes_list'));
    expect(res.headers.get('retry-after')).to.equal('2');
    await expectOAuthError(res, 503, 'temporarily_unavailable');
    const result = await callTool(server.url, token, 'notes_list');
    expect(result.isError).to.equal(true);
    expect(JSON.stringify(result.content)).to.match(/try again/i);
    expect(Date.now() - started).to.be.below(5000);
  });
});
