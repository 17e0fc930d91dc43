import { expect } from 'chai';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { memoryOidcStorage } from '../adapters/memory/oidc-adapter.js';
import { withRefreshGrace } from '../adapters/refresh-grace.js';
import { Browser } from './helpers/browser.js';
import { basicAuth, form, json, loggedInBrowser, pkce, type Tokens } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { servedDocuments } from './helpers/third-party.js';

const RS = { id: 'rs', secret: 'rs-secret-0123456789' };
const CLI_REDIRECT = 'http://127.0.0.1:43123/callback';

/** The authorization server as MCP hosts meet it: DCR, resource indicators, PKCE, rotation, CIMD, CORS. */
describe('the authorization server for MCP hosts', () => {
  const metadataDocuments = new Map<string, unknown>();
  const server = useTestServer({ RESOURCE_SERVERS: `${RS.id}:${RS.secret}` }, { outboundFetch: servedDocuments(metadataDocuments) });

  const introspect = async (token: string) =>
    (await fetch(`${server.url}/oauth/introspect`, form({ token }, { authorization: basicAuth(RS.id, RS.secret) }))).json();

  /** The pre-registered public CLI client (first-party: no consent page) through a signed-in browser. */
  async function cliCode(browser: Browser, params: Record<string, string> = {}) {
    const { verifier, challenge } = pkce();
    const url = new URL('/oauth/authorize', server.url);
    url.search = new URLSearchParams({
      client_id: 'mcp-cli', redirect_uri: CLI_REDIRECT, response_type: 'code', state: 's1',
      code_challenge: challenge, code_challenge_method: 'S256', ...params,
    }).toString();
    const { url: landed } = await browser.follow(url.href);
    return { landed, verifier };
  }

  async function cliTokens(params: Record<string, string> = {}) {
    const { browser } = await loggedInBrowser(server.url);
    const { landed, verifier } = await cliCode(browser, params);
    expect(landed.origin + landed.pathname, landed.href).to.equal(CLI_REDIRECT);
    const res = await fetch(`${server.url}/oauth/token`, form({
      grant_type: 'authorization_code', code: landed.searchParams.get('code')!, redirect_uri: CLI_REDIRECT,
      client_id: 'mcp-cli', code_verifier: verifier,
    }));
    expect(res.status).to.equal(200);
    return await res.json() as Tokens;
  }

  const refresh = (refreshToken: string) => fetch(`${server.url}/oauth/token`, form({
    grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'mcp-cli',
  }));

  describe('Dynamic Client Registration at /oauth/clients', () => {
    const register = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/oauth/clients`, { ...json(body), headers: { 'content-type': 'application/json', ...headers } });

    it('registers a public client that asks for the MCP scopes (as the SDK does), with refresh tokens', async () => {
      const res = await register({
        client_name: 'Inspector', redirect_uris: ['http://localhost:6274/oauth/callback'],
        token_endpoint_auth_method: 'none', scope: 'notes:read notes:write',
        grant_types: ['authorization_code', 'refresh_token'],
      });
      expect(res.status).to.equal(201);
      const client = await res.json();
      expect(client.client_id).to.be.a('string');
      expect(client).to.include({ token_endpoint_auth_method: 'none', client_name: 'Inspector' });
      expect(client).to.not.have.property('client_secret');
      expect(client.grant_types).to.include('refresh_token');
    });

    it('registers a confidential client with a secret, and gives refresh tokens by default', async () => {
      const res = await register({ redirect_uris: ['https://app.example.com/cb'] });
      expect(res.status).to.equal(201);
      const client = await res.json();
      expect(client.client_secret).to.be.a('string').with.length.greaterThan(30);
      expect(client.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
    });

    it('refuses a registration without redirect URIs, and malformed JSON, in OAuth\'s format', async () => {
      const missing = await register({ token_endpoint_auth_method: 'none' });
      expect(missing.status).to.equal(400);
      expect((await missing.json()).error).to.equal('invalid_redirect_uri');
      const broken = await fetch(`${server.url}/oauth/clients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
      expect(broken.status).to.equal(400);
      expect((await broken.json()).error).to.equal('invalid_request');
    });

    it('answers CORS preflights and cross-origin registrations from browser-based hosts', async () => {
      const preflight = await fetch(`${server.url}/oauth/clients`, {
        method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers.get('access-control-allow-origin')).to.equal('*');
      expect(preflight.headers.get('access-control-allow-methods')).to.include('POST');
      expect(preflight.headers.get('access-control-allow-headers')).to.include('content-type');
      const res = await register({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }, { origin: 'http://localhost:6274' });
      expect(res.status).to.equal(201);
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
    });
  });

  describe('resource indicators (RFC 8707)', () => {
    for (const spelling of ['/mcp', '/mcp/', 'UPPER']) {
      it(`resource=${spelling === 'UPPER' ? 'HTTP://LOCALHOST:<port>/mcp' : `<issuer>${spelling}`} gives a token whose audience is <issuer>/mcp`, async () => {
        const resource = spelling === 'UPPER' ? `${server.url.toUpperCase()}/mcp` : `${server.url}${spelling}`;
        const tokens = await cliTokens({ resource, scope: 'notes:read' });
        expect(tokens.scope).to.equal('notes:read');
        const details = await introspect(tokens.access_token);
        expect(details).to.include({ active: true, aud: `${server.url}/mcp`, client_id: 'mcp-cli', scope: 'notes:read' });
      });
    }

    it('a request with a resource but no scope gets the default MCP scopes', async () => {
      const tokens = await cliTokens({ resource: `${server.url}/mcp` });
      expect(tokens.scope!.split(' ').sort()).to.deep.equal(['notes:read', 'notes:write']);
    });

    it('a refreshed token keeps its audience without naming the resource again', async () => {
      const tokens = await cliTokens({ resource: `${server.url}/mcp` });
      const refreshed = await (await refresh(tokens.refresh_token)).json() as Tokens;
      expect((await introspect(refreshed.access_token)).aud).to.equal(`${server.url}/mcp`);
    });

    it('an unknown resource is refused with invalid_target at the client', async () => {
      const { browser } = await loggedInBrowser(server.url);
      const { landed } = await cliCode(browser, { resource: 'https://elsewhere.example/api' });
      expect(landed.searchParams.get('error')).to.equal('invalid_target');
      expect(landed.searchParams.get('state')).to.equal('s1');
    });

    it('without a resource, tokens have no MCP audience (the seed\'s userinfo tokens)', async () => {
      const tokens = await cliTokens();
      expect((await introspect(tokens.access_token)).aud).to.equal(undefined);
    });
  });

  describe('public clients', () => {
    it('must use PKCE: a request without code_challenge is refused at the client', async () => {
      const { browser } = await loggedInBrowser(server.url);
      const { landed } = await cliCode(browser, { code_challenge: '', code_challenge_method: '' });
      expect(landed.searchParams.get('error')).to.equal('invalid_request');
      expect(landed.searchParams.get('error_description')).to.match(/PKCE/);
    });

    it('must present the right code_verifier', async () => {
      const { browser } = await loggedInBrowser(server.url);
      const { landed } = await cliCode(browser);
      const res = await fetch(`${server.url}/oauth/token`, form({
        grant_type: 'authorization_code', code: landed.searchParams.get('code')!, redirect_uri: CLI_REDIRECT,
        client_id: 'mcp-cli', code_verifier: pkce().verifier,
      }));
      expect(res.status).to.equal(400);
      expect((await res.json()).error).to.equal('invalid_grant');
    });

    it('refresh tokens rotate, and a duplicate refresh within the grace period succeeds too', async () => {
      const tokens = await cliTokens({ resource: `${server.url}/mcp` });
      const [first, second] = await Promise.all([refresh(tokens.refresh_token), refresh(tokens.refresh_token)]);
      expect([first.status, second.status]).to.deep.equal([200, 200]);
      const a = await first.json() as Tokens;
      const b = await second.json() as Tokens;
      for (const t of [a, b]) {
        expect(t.refresh_token).to.not.equal(tokens.refresh_token);
        expect((await introspect(t.access_token)).active).to.equal(true);
      }
    });
  });

  describe('Client ID Metadata Documents', () => {
    const docUrl = 'https://host.example/mcp-client.json';
    before(() => {
      metadataDocuments.set(docUrl, {
        client_id: docUrl, client_name: 'Hosted MCP client', redirect_uris: ['http://127.0.0.1:7777/cb'],
        token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      });
      metadataDocuments.set('https://host.example/wrong-id.json', { client_id: 'https://host.example/other.json', redirect_uris: ['http://127.0.0.1:7777/cb'] });
    });

    const authorizeAs = (clientId: string) => {
      const url = new URL('/oauth/authorize', server.url);
      url.search = new URLSearchParams({
        client_id: clientId, redirect_uri: 'http://127.0.0.1:7777/cb', response_type: 'code',
        code_challenge: pkce().challenge, code_challenge_method: 'S256', resource: `${server.url}/mcp`,
      }).toString();
      return new Browser(server.url).follow(url.href);
    };

    it('are advertised in the metadata', async () => {
      const meta = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
      expect(meta.client_id_metadata_document_supported).to.equal(true);
    });

    it('an https client_id whose document checks out is accepted: the user is asked to sign in', async () => {
      const { res, url } = await authorizeAs(docUrl);
      expect(url.pathname).to.match(/^\/interaction\//);
      expect(await res.text()).to.include('name="password"');
    });

    for (const [label, clientId] of [['unreachable', 'https://host.example/missing.json'], ['about another client', 'https://host.example/wrong-id.json']] as const) {
      it(`a document that is ${label} is refused with an error page, never a redirect`, async () => {
        const { res } = await authorizeAs(clientId);
        expect(res.status).to.equal(400);
        expect(res.headers.get('location')).to.equal(null);
        expect(await res.text()).to.include('invalid_client');
      });
    }
  });

  describe('CORS on the endpoints browser-based hosts call', () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      it(`GET ${path} is readable cross-origin`, async () => {
        const res = await fetch(`${server.url}${path}`, { headers: { origin: 'http://localhost:6274' } });
        expect(res.headers.get('access-control-allow-origin')).to.be.oneOf(['*', 'http://localhost:6274']);
      });
    }

    for (const path of ['/oauth/token', '/oauth/revoke']) {
      it(`POST ${path} answers its preflight and cross-origin calls`, async () => {
        const preflight = await fetch(`${server.url}${path}`, {
          method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' },
        });
        expect(preflight.status).to.equal(204);
        expect(preflight.headers.get('access-control-allow-origin')).to.be.oneOf(['*', 'http://localhost:6274']);
        const res = await fetch(`${server.url}${path}`, { ...form({ token: 'x', client_id: 'mcp-cli' }), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:6274' } });
        expect(res.headers.get('access-control-allow-origin')).to.be.oneOf(['*', 'http://localhost:6274']);
      });
    }
  });
});

describe('refresh token reuse grace (adapter)', () => {
  it('hides a fresh consumption, allows a second consume within the grace, and reports reuse after it', async () => {
    const storage = memoryOidcStorage();
    const adapter: Adapter = withRefreshGrace(storage.factory, 1)('RefreshToken');
    const payload: AdapterPayload = { jti: 'rt1', grantId: 'g1', kind: 'RefreshToken' };
    await adapter.upsert('rt1', payload, 60);
    await adapter.consume('rt1');
    expect((await adapter.find('rt1'))?.consumed).to.equal(undefined);
    await adapter.consume('rt1');
    await new Promise((r) => setTimeout(r, 2100));
    expect((await adapter.find('rt1'))?.consumed).to.be.a('number');
    const late = await adapter.consume('rt1').then(() => undefined, (err: unknown) => err);
    expect(late).to.be.instanceOf(errors.InvalidGrant);
    storage.close();
  });

  it('leaves every other model alone', async () => {
    const storage = memoryOidcStorage();
    const adapter = withRefreshGrace(storage.factory, 60)('AuthorizationCode');
    await adapter.upsert('c1', { jti: 'c1' }, 60);
    await adapter.consume('c1');
    expect((await adapter.find('c1'))?.consumed).to.be.a('number');
    expect(await adapter.consume('c1').then(() => 'consumed twice', () => 'refused')).to.equal('refused');
    storage.close();
  });
});
