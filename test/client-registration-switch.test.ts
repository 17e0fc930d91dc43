import { expect } from 'chai';
import { expectHtmlErrorPage, expectOAuthError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { freePort, requireRedis, uniquePrefix } from './helpers/redis.js';
import { form, json, raw, registerUser } from './helpers/seed.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';
import { connect, refresh, registerHost, servedDocuments, type Host } from './helpers/third-party.js';

/**
 * CLIENT_REGISTRATION=closed turns Dynamic Client Registration off: no registration_endpoint in discovery (what MCP
 * hosts read before registering), and 403 access_denied at its old address. Client ID Metadata Documents keep
 * working, from the hosts CIMD_ALLOWED_HOSTS allows when it is set; clients registered before keep working.
 */

const DISCOVERY = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];

const registration = (base: string, init: RequestInit = {}) => fetch(`${base}/oauth/clients`, {
  ...json({ client_name: 'Late host', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }),
  ...init,
});

/** An app described by a metadata document at `clientId`, served by the test's own little internet. */
function describedApp(documents: Map<string, unknown>, clientId: string, name = 'Described app'): Host {
  documents.set(clientId, { client_id: clientId, client_name: name, redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' });
  return { clientId, name, redirectUri: 'http://127.0.0.1:45680/cb' };
}

/** The authorization URL of `clientId` for /mcp, as a host sends it. */
const authorizeUrlOf = (base: string, clientId: string) => `${base}/oauth/authorize?${new URLSearchParams({
  client_id: clientId, response_type: 'code', redirect_uri: 'http://127.0.0.1:45680/cb', resource: `${base}/mcp`,
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'st',
})}`;

describe('CLIENT_REGISTRATION', () => {
  describe('closed', () => {
    const documents = new Map<string, unknown>();
    const server = useTestServer({ CLIENT_REGISTRATION: 'closed' }, { outboundFetch: servedDocuments(documents) });

    for (const path of DISCOVERY) {
      it(`${path} no longer names a registration_endpoint, and still says metadata documents are supported`, async () => {
        const meta = await (await fetch(`${server.url}${path}`)).json();
        expect(meta).to.not.have.property('registration_endpoint');
        expect(meta.client_id_metadata_document_supported).to.equal(true);
        expect(meta.authorization_endpoint).to.equal(`${server.url}/oauth/authorize`);
      });
    }

    it('POST /oauth/clients → 403 access_denied in RFC 7591\'s error format, pointing to metadata documents and the operator', async () => {
      const body = await expectOAuthError(await registration(server.url), 403, 'access_denied');
      expect(body.error_description).to.match(/Client ID Metadata Document/).and.match(/operator/);
      await expectOAuthError(await registration(server.url, raw('not json', 'application/json')), 403, 'access_denied');
    });

    it('a browser-based host reads that answer across origins (CORS), and its preflight is answered', async () => {
      const res = await registration(server.url, { headers: { 'content-type': 'application/json', origin: 'https://host.example' } });
      expect(res.status).to.equal(403);
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
      const preflight = await fetch(`${server.url}/oauth/clients`, {
        method: 'OPTIONS', headers: { origin: 'https://host.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).to.equal(204);
    });

    it('another spelling of the path registers nothing either', async () => {
      for (const path of ['/OAUTH/clients', '/oauth/clients/']) {
        const res = await fetch(`${server.url}${path}`, json({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }));
        expect(res.status, path).to.be.oneOf([403, 404]);
        expect((await res.json()).client_id, path).to.equal(undefined);
      }
    });

    it('an unknown client is told it is not registered, without a registration_endpoint to register at', async () => {
      const res = await fetch(authorizeUrlOf(server.url, 'forgotten-client'), { redirect: 'manual', headers: { accept: 'application/json' } });
      expect(res.status).to.equal(400);
      expect(await res.json()).to.deep.equal({ error: 'invalid_client', error_description: 'the client is not registered with this server' });
    });

    it('the page for an unknown client says apps cannot register themselves here, not to connect again', async () => {
      const html = await expectHtmlErrorPage(await fetch(authorizeUrlOf(server.url, 'forgotten-client'), { redirect: 'manual' }), 400, 'invalid_client');
      expect(html).to.include('apps cannot register themselves here');
      expect(html).to.not.include('registers itself anew');
    });

    it('an app described by a Client ID Metadata Document still connects: sign-in, consent, tokens, refresh', async () => {
      const host = describedApp(documents, 'https://apps.example.org/closed-dcr/client.json');
      const user = await registerUser(server.url);
      const { tokens, consentPage } = await connect(new Browser(server.url), host, user);
      expect(consentPage, 'the consent page').to.include('apps.example.org');
      expect(tokens.scope).to.include('notes:read');
      expect((await refresh(server.url, host, tokens.refresh_token)).status).to.equal(200);
    });
  });

  describe('open (the default)', () => {
    const server = useTestServer();

    it('discovery names the registration endpoint, and registration works', async () => {
      for (const path of DISCOVERY) {
        expect((await (await fetch(`${server.url}${path}`)).json()).registration_endpoint, path).to.equal(`${server.url}/oauth/clients`);
      }
      expect((await registration(server.url)).status).to.equal(201);
    });
  });

  describe('closed after clients registered, on Redis', () => {
    const redis = requireRedis();
    const open: TestServer[] = [];
    after(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it('a client registered while it was open keeps working: its refresh token, and a new authorization', async () => {
      const env = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix(), PORT: String(await freePort()) };
      const opened = await startTestServer(env);
      open.push(opened);
      const host = await registerHost(opened.url);
      const user = await registerUser(opened.url);
      const { tokens } = await connect(new Browser(opened.url), host, user);
      await opened.close();
      open.splice(open.indexOf(opened), 1);

      const closed = await startTestServer({ ...env, CLIENT_REGISTRATION: 'closed' });
      open.push(closed);
      await expectOAuthError(await registration(closed.url), 403, 'access_denied');
      const refreshed = await refresh(closed.url, host, tokens.refresh_token);
      expect(refreshed.status, await refreshed.clone().text()).to.equal(200);
      const again = await connect(new Browser(closed.url), host, user);
      expect(again.tokens.access_token).to.be.a('string');
    });
  });
});

describe('CIMD_ALLOWED_HOSTS', () => {
  const documents = new Map<string, unknown>();
  const fetched: string[] = [];
  const serve = servedDocuments(documents);
  const server = useTestServer({ CIMD_ALLOWED_HOSTS: 'tools.example.com, *.apps.example' }, {
    outboundFetch: (input, init) => {
      fetched.push(String(input));
      return serve(input, init);
    },
  });

  for (const clientId of ['https://tools.example.com/client.json', 'https://notes.apps.example/client.json', 'https://a.b.apps.example/c.json']) {
    it(`accepts ${new URL(clientId).host}: the app connects`, async () => {
      const host = describedApp(documents, clientId);
      const { tokens } = await connect(new Browser(server.url), host, await registerUser(server.url));
      expect(tokens.access_token).to.be.a('string');
    });
  }

  for (const clientId of ['https://evil.example/client.json', 'https://apps.example/client.json', 'https://tools.example.com:8443/client.json',
    'https://tools.example.com.evil.example/client.json', 'https://notapps.example/client.json']) {
    it(`refuses ${new URL(clientId).host} with invalid_client, saying why, without fetching its document`, async () => {
      describedApp(documents, clientId);
      fetched.length = 0;
      const res = await fetch(authorizeUrlOf(server.url, clientId), { redirect: 'manual', headers: { accept: 'application/json' } });
      const body = await expectOAuthError(res, 400, 'invalid_client');
      expect(body.error_description).to.equal(
        `this server accepts Client ID Metadata Documents only from the hosts its operator allows, and ${new URL(clientId).host} is not one of them`,
      );
      const page = await expectHtmlErrorPage(await fetch(authorizeUrlOf(server.url, clientId), { redirect: 'manual' }), 400, 'invalid_client');
      expect(page).to.include('this app is not one of them');
      const token = await fetch(`${server.url}/oauth/token`, form({ grant_type: 'authorization_code', code: 'x', client_id: clientId, code_verifier: 'v'.repeat(43) }));
      // 400, as the provider answers a metadata document it cannot use (RFC 6749 §5.2 makes 401 optional without Authorization).
      expect((await expectOAuthError(token, 400, 'invalid_client')).error_description).to.match(/not one of them/);
      expect(fetched, 'documents fetched').to.deep.equal([]);
    });
  }

  it('Dynamic Client Registration is not affected (CLIENT_REGISTRATION decides it)', async () => {
    expect((await registration(server.url)).status).to.equal(201);
  });
});
