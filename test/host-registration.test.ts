import { expect } from 'chai';
import { expectHtmlErrorPage } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { json, pkce, registerUser } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { authorize, connect, introspect, refresh, RESOURCE_SERVER_ENV, servedDocuments, type Host } from './helpers/third-party.js';

/**
 * The redirect URIs and application types self-registered clients may use (issue 11, item 4), by Dynamic Client
 * Registration and by Client ID Metadata Document alike: any port on a loopback redirect (RFC 8252 §7.3), the
 * private-use schemes of native apps (§7.1), never javascript: and its kind or plain http off loopback.
 */
describe('redirect URIs and application types of self-registered hosts', () => {
  const documents = new Map<string, unknown>();
  const server = useTestServer(RESOURCE_SERVER_ENV, { outboundFetch: servedDocuments(documents) });

  const register = (body: Record<string, unknown>) => fetch(`${server.url}/oauth/clients`, json(body));

  async function registered(body: Record<string, unknown>) {
    const res = await register(body);
    expect(res.status, await res.clone().text()).to.equal(201);
    return await res.json() as { client_id: string; application_type: string; redirect_uris: string[] };
  }

  /** A Client ID Metadata Document at https://<name>.example/client.json, served by the test's outbound fetch. */
  function metadataDocument(name: string, metadata: Record<string, unknown>): string {
    const clientId = `https://${name}.example/client.json`;
    documents.set(clientId, { client_id: clientId, client_name: name, token_endpoint_auth_method: 'none', ...metadata });
    return clientId;
  }

  /** A user connects the client through `redirectUri` and refreshes: both must work. */
  async function connectsThrough(clientId: string, redirectUri: string) {
    const host: Host = { clientId, name: clientId, redirectUri };
    const { tokens } = await connect(new Browser(server.url), host, await registerUser(server.url));
    expect((await introspect(server.url, tokens.access_token)).aud).to.equal(`${server.url}/mcp`);
    const refreshed = await refresh(server.url, host, tokens.refresh_token);
    expect(refreshed.status, await refreshed.clone().text()).to.equal(200);
  }

  /** Where an authorization request through `redirectUri` stops before anyone signs in. */
  const startAt = (clientId: string, redirectUri: string) => authorize(new Browser(server.url), { clientId, name: clientId, redirectUri });

  describe('loopback redirect URIs: any port, whatever the application type (RFC 8252 §7.3)', () => {
    for (const [registeredUri, used] of [
      ['http://127.0.0.1/callback', 'http://127.0.0.1:51234/callback'],
      ['http://127.0.0.1:33418/callback', 'http://127.0.0.1:40001/callback'],
      ['http://[::1]:6274/oauth/callback', 'http://[::1]:6275/oauth/callback'],
      ['http://localhost:3334/oauth/callback', 'http://localhost:41000/oauth/callback'],
    ] as const) {
      for (const applicationType of [undefined, 'web', 'native'] as const) {
        it(`registered by DCR as ${registeredUri} (application_type ${applicationType ?? 'absent'}), used as ${used}`, async () => {
          const client = await registered({
            redirect_uris: [registeredUri], token_endpoint_auth_method: 'none', application_type: applicationType,
          });
          await connectsThrough(client.client_id, used);
        });
      }
    }

    it('listed without a port in a Client ID Metadata Document, used with one', async () => {
      const clientId = metadataDocument('loopback-doc', { redirect_uris: ['http://127.0.0.1/callback'] });
      await connectsThrough(clientId, 'http://127.0.0.1:52345/callback');
    });

    for (const [label, used] of [
      ['another path', 'http://127.0.0.1:5000/other'],
      ['another loopback address', 'http://127.0.0.2:5000/callback'],
      ['another loopback spelling', 'http://localhost:5000/callback'],
      ['https on the same port rule', 'https://127.0.0.1:5000/callback'],
      ['a query added', 'http://127.0.0.1:5000/callback?x=1'],
      ['credentials in the authority', 'http://u@127.0.0.1:5000/callback'],
    ] as const) {
      it(`only the port may differ: ${label} (${used}) is refused with an error page`, async () => {
        const client = await registered({ redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' });
        await expectHtmlErrorPage((await startAt(client.client_id, used)).res, 400, 'invalid_redirect_uri');
      });
    }

    it('the operator\'s own clients keep exact matching: client1 on another port of its loopback callback is refused', async () => {
      const callback = new URL('/callback', server.url);
      callback.port = String(Number(callback.port) + 1);
      await expectHtmlErrorPage((await startAt('client1', callback.href)).res, 400, 'invalid_redirect_uri');
    });
  });

  describe('refused redirect URIs, by DCR and by Client ID Metadata Document alike', () => {
    const refused = ['http://evil.example/cb', 'javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'vbscript:msgbox(1)', 'not a uri'];

    for (const uri of refused) {
      it(`DCR: ${uri}, even beside a good one, refuses the registration with invalid_redirect_uri`, async () => {
        const res = await register({ redirect_uris: ['http://127.0.0.1/cb', uri], token_endpoint_auth_method: 'none' });
        expect(res.status).to.equal(400);
        const body = await res.json();
        expect(body.error).to.equal('invalid_redirect_uri');
        expect(body.error_description).to.include(uri);
      });

      it(`Client ID Metadata Document: a document listing ${uri} is refused, never redirected to`, async () => {
        const clientId = metadataDocument(`refused-${refused.indexOf(uri)}`, { redirect_uris: [uri] });
        const { res } = await startAt(clientId, uri);
        const html = await expectHtmlErrorPage(res, 400, 'invalid_redirect_uri');
        expect(html, 'a link off this server').to.not.match(/<a\s[^>]*href="(?!\/)/i);
      });
    }
  });

  describe('private-use URI schemes of native apps (RFC 8252 §7.1)', () => {
    it('Cursor\'s registration (its scheme, an https and a loopback URI in one request) is accepted as native, and each URI works', async () => {
      const body = {
        client_name: 'Cursor',
        redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback', 'https://cursor.com/oauth/callback', 'http://127.0.0.1/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      };
      const client = await registered(body);
      expect(client.application_type).to.equal('native');
      expect(client.redirect_uris).to.deep.equal(body.redirect_uris);
      await connectsThrough(client.client_id, 'cursor://anysphere.cursor-mcp/oauth/callback');
      await connectsThrough(client.client_id, 'http://127.0.0.1:60606/oauth/callback');
    });

    for (const applicationType of [undefined, 'web', 'native'] as const) {
      it(`a reverse-DNS scheme with application_type ${applicationType ?? 'absent'} registers as native`, async () => {
        const client = await registered({
          redirect_uris: ['com.example.notes:/oauth2redirect'], token_endpoint_auth_method: 'none', application_type: applicationType,
        });
        expect(client.application_type).to.equal('native');
        await connectsThrough(client.client_id, 'com.example.notes:/oauth2redirect');
      });
    }

    it('in a Client ID Metadata Document too', async () => {
      const clientId = metadataDocument('native-doc', { redirect_uris: ['com.example.native-doc:/cb', 'http://127.0.0.1/cb'] });
      await connectsThrough(clientId, 'com.example.native-doc:/cb');
    });
  });

  describe('application_type (SEP-837)', () => {
    it('web with https, and native with loopback, register as they say', async () => {
      expect((await registered({ application_type: 'web', redirect_uris: ['https://app.example/cb'] })).application_type).to.equal('web');
      expect((await registered({
        application_type: 'native', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none',
      })).application_type).to.equal('native');
    });

    it('absent, with https or loopback URIs only, is web', async () => {
      const client = await registered({ redirect_uris: ['https://app.example/cb', 'http://localhost/cb'], token_endpoint_auth_method: 'none' });
      expect(client.application_type).to.equal('web');
    });

    it('an unknown type is refused in OAuth\'s format', async () => {
      const res = await register({ application_type: 'desktop', redirect_uris: ['http://127.0.0.1/cb'] });
      expect(res.status).to.equal(400);
      expect((await res.json()).error).to.equal('invalid_client_metadata');
    });
  });

  describe('what else hosts put in a registration', () => {
    it('a client that may use the code grant may refresh, even if it did not ask to (Zed), and the response says so', async () => {
      const client = await registered({ redirect_uris: ['http://127.0.0.1/cb'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'none' });
      expect((client as unknown as { grant_types: string[] }).grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
    });

    for (const scope of ['', 'openid email profile', 'notes:read notes:write', 'openid']) {
      it(`a registered scope "${scope}" is accepted and restricts nothing later (hosts add offline_access)`, async () => {
        const client = await registered({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none', scope });
        expect(client).to.not.have.property('scope');
      });
    }
  });

  it('PKCE stays required of public clients, whatever their redirect URI', async () => {
    const client = await registered({ redirect_uris: ['com.example.pkce:/cb'], token_endpoint_auth_method: 'none' });
    const url = new URL('/oauth/authorize', server.url);
    url.search = new URLSearchParams({
      client_id: client.client_id, redirect_uri: 'com.example.pkce:/cb', response_type: 'code', resource: `${server.url}/mcp`,
      code_challenge: pkce().challenge, code_challenge_method: 'plain',
    }).toString();
    // An error before anyone signed in is never sent to a self-registered app by itself (test/authorize-error-pages.test.ts).
    const html = await expectHtmlErrorPage(await fetch(url, { redirect: 'manual' }), 400, 'invalid_request');
    expect(html).to.include('code_challenge_method');
  });
});
