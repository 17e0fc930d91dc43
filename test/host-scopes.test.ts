import { expect } from 'chai';
import { Browser } from './helpers/browser.js';
import { form, pkce, registerUser } from './helpers/seed.js';
import { expectMcpAccepts } from './helpers/mcp.js';
import { useTestServer } from './helpers/server.js';
import {
  authorize, connect, exchangeOk, hostRedirect, interactionPage, introspect, registerHost, RESOURCE_SERVER_ENV, signInThere,
  type Host, type HostTokens,
} from './helpers/third-party.js';

/**
 * The scopes hosts ask for (issue 11, item 5) and hosts that send no resource (item 6): whichever way a host builds
 * its request, a host that asks for /mcp or its scopes gets a token /mcp accepts, and its refreshes work, with or
 * without repeating the scope it asked for.
 */
describe('the scopes MCP hosts ask for', () => {
  const server = useTestServer(RESOURCE_SERVER_ENV);

  const refreshWith = (host: Host, refreshToken: string, extra: Record<string, string> = {}) =>
    fetch(`${server.url}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: host.clientId, ...extra }));

  /** The status /mcp answers a bearer token with: 401 means it is not a token for /mcp at all. */
  const mcpStatus = async (token: string) => {
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    });
    await res.body?.cancel();
    return res.status;
  };

  async function connected(params: Record<string, string | undefined>) {
    const host = await registerHost(server.url);
    const { tokens, consentPage } = await connect(new Browser(server.url), host, await registerUser(server.url), params);
    return { host, tokens, consentPage };
  }

  /** The token's scopes, checked to be for /mcp, and accepted there. */
  async function mcpScopesOf(tokens: HostTokens) {
    const details = await introspect(server.url, tokens.access_token);
    expect(details.aud, 'the audience').to.equal(`${server.url}/mcp`);
    await expectMcpAccepts(server.url, tokens.access_token, details.client_id);
    return String(details.scope ?? '').split(' ').filter(Boolean).sort();
  }

  /** Refreshes as most hosts do, without a scope: the token keeps its audience and scopes. */
  async function refreshes(host: Host, tokens: HostTokens) {
    const res = await refreshWith(host, tokens.refresh_token);
    expect(res.status, await res.clone().text()).to.equal(200);
    const refreshed = await res.json() as HostTokens;
    expect(await mcpScopesOf(refreshed)).to.deep.equal(['notes:read', 'notes:write']);
    return refreshed;
  }

  // Then a refresh that repeats the first request's scope: every scope the host was told exists was granted, so it
  // works; a scope of another server was never granted, and RFC 6749 §6 has that refused, in OAuth's words.
  for (const [label, scope, repeated] of [
    ['the OpenID scopes, offline_access and the MCP scopes (from discovery, SEP-2207)', 'openid profile offline_access notes:read notes:write', 'both'],
    ['only the MCP scopes (from the challenge or the protected resource metadata)', 'notes:read notes:write', 'both'],
    ['the MCP scopes and offline_access', 'notes:read notes:write offline_access', 'both'],
    ['no scope at all', undefined, undefined],
    ['only OpenID scopes and offline_access', 'openid profile offline_access', 'none'],
    ['a scope of another server only', 'mcp:tools', 'invalid_scope'],
    ['the MCP scopes and a scope of another server', 'notes:read notes:write mcp:tools', 'invalid_scope'],
  ] as const) {
    it(`a host that asks for /mcp with ${label} gets both MCP scopes, and refreshes`, async () => {
      const { host, tokens } = await connected({ scope });
      expect(await mcpScopesOf(tokens)).to.deep.equal(['notes:read', 'notes:write']);
      expect(tokens.scope.split(' ').sort()).to.deep.equal(['notes:read', 'notes:write']);
      const refreshed = await refreshes(host, tokens);
      if (scope === undefined) return;
      const res = await refreshWith(host, refreshed.refresh_token, { scope });
      if (repeated === 'invalid_scope') {
        expect(res.status).to.equal(400);
        expect(await res.json()).to.include({ error: 'invalid_scope', scope: 'mcp:tools' });
        return;
      }
      expect(res.status, await res.clone().text()).to.equal(200);
      // Asking for OpenID scopes only narrows the token to them (RFC 6749 §6): it still is a token for /mcp.
      expect(await mcpScopesOf(await res.json() as HostTokens)).to.deep.equal(repeated === 'both' ? ['notes:read', 'notes:write'] : []);
    });
  }

  it('a host that asks for one MCP scope gets that one only', async () => {
    const { tokens } = await connected({ scope: 'notes:read' });
    expect(await mcpScopesOf(tokens)).to.deep.equal(['notes:read']);
  });

  it('offline_access is asked for in plain words on the consent page, and granted', async () => {
    const { host, tokens, consentPage } = await connected({ scope: 'notes:read offline_access' });
    expect(consentPage).to.include('Stay connected when you are not using it');
    const repeated = await refreshWith(host, tokens.refresh_token, { scope: 'notes:read offline_access' });
    expect(repeated.status, await repeated.clone().text()).to.equal(200);
  });

  it('offline_access in a pushed authorization request (RFC 9126) is asked for and granted too', async () => {
    const user = await registerUser(server.url);
    const host = await registerHost(server.url);
    const { verifier, challenge } = pkce();
    const pushed = await fetch(`${server.url}/oauth/par`, form({
      client_id: host.clientId, redirect_uri: host.redirectUri, response_type: 'code', state: 'par-state',
      code_challenge: challenge, code_challenge_method: 'S256', resource: `${server.url}/mcp`, scope: 'notes:read offline_access',
    }));
    expect(pushed.status, await pushed.clone().text()).to.equal(201);
    const { request_uri: requestUri } = await pushed.json() as { request_uri: string };
    const browser = new Browser(server.url);
    const started = await browser.follow(`/oauth/authorize?${new URLSearchParams({ client_id: host.clientId, request_uri: requestUri })}`);
    const { html } = await interactionPage(await signInThere(browser, started, user));
    expect(html).to.include('Stay connected when you are not using it');
    const code = hostRedirect(await browser.submit(html, '/consent', {}), host, 'par-state').get('code')!;
    const tokens = await exchangeOk(server.url, host, code, verifier);
    const res = await refreshWith(host, tokens.refresh_token, { scope: 'notes:read offline_access' });
    expect(res.status, await res.clone().text()).to.equal(200);
  });

  it('a scope never granted is still refused on refresh, with invalid_scope', async () => {
    const { host, tokens } = await connected({ scope: 'notes:read' });
    const res = await refreshWith(host, tokens.refresh_token, { scope: 'notes:read notes:write' });
    expect(res.status).to.equal(400);
    expect((await res.json()).error).to.equal('invalid_scope');
  });

  describe('hosts that send no resource (RFC 8707 §2: the default resource)', () => {
    for (const scope of ['notes:read notes:write', 'openid profile offline_access notes:read notes:write']) {
      it(`asking for ${scope} gets a token for /mcp, and refreshes`, async () => {
        const { host, tokens } = await connected({ scope, resource: undefined });
        expect(await mcpScopesOf(tokens)).to.deep.equal(['notes:read', 'notes:write']);
        const refreshed = await refreshes(host, tokens);
        const repeated = await refreshWith(host, refreshed.refresh_token, { scope });
        expect(repeated.status, await repeated.clone().text()).to.equal(200);
        expect(await mcpScopesOf(await repeated.json() as HostTokens)).to.deep.equal(['notes:read', 'notes:write']);
      });
    }

    it('asking for no scope, or only OpenID ones, gets the seed\'s OpenID tokens, which /mcp refuses', async () => {
      for (const scope of [undefined, 'openid profile']) {
        const { tokens } = await connected({ scope, resource: undefined });
        const details = await introspect(server.url, tokens.access_token);
        expect(details.aud).to.equal(undefined);
        expect(details.scope).to.equal('openid profile');
        expect(await mcpStatus(tokens.access_token)).to.equal(401);
      }
    });
  });

  describe('discovery and metadata', () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      it(`${path} lists the OpenID scopes and the MCP scopes in scopes_supported`, async () => {
        const meta = await (await fetch(`${server.url}${path}`)).json();
        expect(meta.scopes_supported).to.have.members(['openid', 'profile', 'offline_access', 'notes:read', 'notes:write']);
      });
    }

    it('the protected resource metadata lists the MCP scopes only, not offline_access (SEP-2207)', async () => {
      const prm = await (await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`)).json();
      expect(prm.scopes_supported).to.have.members(['notes:read', 'notes:write']);
    });
  });

  it('the consent page asks nothing again for a remembered grant, offline_access included (no consent loop)', async () => {
    const user = await registerUser(server.url);
    const host = await registerHost(server.url);
    const browser = new Browser(server.url);
    const scope = 'openid profile offline_access notes:read notes:write';
    await connect(browser, host, user, { scope });
    const again = await authorize(browser, host, { scope });
    const step = again.url.origin === server.url ? await signInThere(browser, again, user) : again;
    expect(hostRedirect(step, host, again.state).get('code')).to.be.a('string');
  });
});
