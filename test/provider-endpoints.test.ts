import { expect } from 'chai';
import { useTestServer } from './helpers/server.js';
import { authorizeCode, basicAuth, exchangeCode, form, loggedInBrowser, tokensFor, type Tokens } from './helpers/seed.js';

const basic = (id: string, secret: string) => ({ authorization: basicAuth(id, secret) });
const RS = { id: 'resource-server', secret: 'rs-secret-0123456789abcdef' };

describe('provider endpoints under /oauth/', () => {
  const server = useTestServer({ RESOURCE_SERVERS: `${RS.id}:${RS.secret}` });

  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    it(`${path} lists every endpoint under /oauth/ and S256 PKCE only`, async () => {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).to.equal(200);
      const meta = await res.json();
      expect(meta.issuer).to.equal(server.url);
      expect(meta).to.include({
        authorization_endpoint: `${server.url}/oauth/authorize`,
        token_endpoint: `${server.url}/oauth/token`,
        userinfo_endpoint: `${server.url}/oauth/userinfo`,
        jwks_uri: `${server.url}/oauth/jwks`,
        revocation_endpoint: `${server.url}/oauth/revoke`,
        introspection_endpoint: `${server.url}/oauth/introspect`,
        end_session_endpoint: `${server.url}/oauth/logout`,
        pushed_authorization_request_endpoint: `${server.url}/oauth/par`,
        authorization_response_iss_parameter_supported: true,
      });
      expect(meta.code_challenge_methods_supported).to.deep.equal(['S256']);
      expect(meta.response_types_supported).to.deep.equal(['code']);
      expect(meta.grant_types_supported).to.not.include('implicit');
      expect(meta.registration_endpoint).to.equal(`${server.url}/oauth/clients`);
      expect(meta.client_id_metadata_document_supported).to.equal(true);
    });
  }

  it('the development interaction pages are off', async () => {
    const res = await fetch(`${server.url}/interaction/anything`);
    expect(res.status).to.be.within(400, 404);
    expect(await res.text()).to.not.match(/oidc-provider|devInteractions/i);
  });

  it('/oauth/jwks publishes public signing keys only', async () => {
    const { keys } = await (await fetch(`${server.url}/oauth/jwks`)).json();
    expect(keys).to.have.length.greaterThan(0);
    for (const key of keys) {
      expect(key).to.include({ use: 'sig' });
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).to.not.have.property(secret);
    }
  });

  for (const path of ['/oauth/authorize', '/oauth/logout']) {
    it(`POST ${path} → 405 with Allow: GET, not a 404 (the provider serves it by GET only)`, async () => {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=client1' });
      const text = await res.text();
      expect(res.status, text).to.equal(405);
      expect(res.headers.get('allow')).to.equal('GET');
      expect(JSON.parse(text)).to.have.all.keys('error', 'error_description');
    });
  }

  describe('revocation', () => {
    it('client1 revokes its access token; userinfo then refuses it', async () => {
      const { tokens } = await tokensFor(server.url);
      const res = await fetch(`${server.url}/oauth/revoke`, form({ token: tokens.access_token }, basic('client1', 'secret1')));
      expect(res.status).to.equal(200);
      const info = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(info.status).to.equal(401);
    });

    it('revoking the refresh token ends the grant: refresh fails afterwards', async () => {
      const { tokens } = await tokensFor(server.url);
      await fetch(`${server.url}/oauth/revoke`, form({ token: tokens.refresh_token, token_type_hint: 'refresh_token' }, basic('client1', 'secret1')));
      const res = await fetch(`${server.url}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic('client1', 'secret1')));
      expect(res.status).to.equal(400);
      expect((await res.json()).error).to.equal('invalid_grant');
    });

    it('is never cached, at whichever spelling of the path the provider answers', async () => {
      const { tokens } = await tokensFor(server.url);
      for (const path of ['/oauth/revoke', '/OAUTH/REVOKE/', '/oauth/Revoke?x=1']) {
        const res = await fetch(`${server.url}${path}`, form({ token: tokens.access_token }, basic('client1', 'secret1')));
        expect(res.status, path).to.equal(200);
        expect(res.headers.get('cache-control'), path).to.equal('no-store');
        const refused = await fetch(`${server.url}${path}`, form({ token: 'x' }, basic('client1', 'wrong')));
        expect(refused.status, path).to.equal(401);
        expect(refused.headers.get('cache-control'), path).to.equal('no-store');
      }
    });

    it('refuses a wrong client secret with 401 invalid_client', async () => {
      const res = await fetch(`${server.url}/oauth/revoke`, form({ token: 'x' }, basic('client1', 'wrong')));
      expect(res.status).to.equal(401);
      expect((await res.json()).error).to.equal('invalid_client');
    });
  });

  describe('introspection', () => {
    let tokens: Tokens;
    before(async () => {
      ({ tokens } = await tokensFor(server.url));
    });

    it('answers a resource server with the token details', async () => {
      const res = await fetch(`${server.url}/oauth/introspect`, form({ token: tokens.access_token }, basic(RS.id, RS.secret)));
      expect(res.status).to.equal(200);
      const body = await res.json();
      expect(body).to.include({ active: true, client_id: 'client1', token_type: 'Bearer' });
      expect(body.sub).to.be.a('string');
      expect(body.scope).to.include('openid');
    });

    it('tells a confidential client that is not a resource server nothing (active: false)', async () => {
      const res = await fetch(`${server.url}/oauth/introspect`, form({ token: tokens.access_token }, basic('client1', 'secret1')));
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ active: false });
    });

    it('refuses unauthenticated callers', async () => {
      const res = await fetch(`${server.url}/oauth/introspect`, form({ token: tokens.access_token }));
      expect(res.status).to.be.within(400, 401);
      expect((await res.json()).error).to.be.oneOf(['invalid_request', 'invalid_client']);
    });
  });

  describe('pushed authorization requests', () => {
    it('client1 pushes its request and authorizes with the request_uri', async () => {
      const res = await fetch(`${server.url}/oauth/par`, form({
        client_id: 'client1', redirect_uri: `${server.url}/callback`, response_type: 'code', state: 'par-state',
      }, basic('client1', 'secret1')));
      expect(res.status).to.equal(201);
      const { request_uri: requestUri, expires_in: expiresIn } = await res.json();
      expect(requestUri).to.match(/^urn:ietf:params:oauth:request_uri:/);
      expect(expiresIn).to.be.a('number');

      const { browser } = await loggedInBrowser(server.url);
      const { code, url } = await authorizeCode(browser, { request_uri: requestUri, state: 'par-state' });
      expect(url.searchParams.get('state')).to.equal('par-state');
      expect((await exchangeCode(server.url, code)).status).to.equal(200);
    });

    it('refuses a push without client authentication', async () => {
      const res = await fetch(`${server.url}/oauth/par`, form({ client_id: 'client1', redirect_uri: `${server.url}/callback`, response_type: 'code' }));
      expect(res.status).to.equal(401);
      expect((await res.json()).error).to.equal('invalid_client');
    });
  });
});
