import { expect } from 'chai';
import { expectHtmlErrorPage, expectOAuthError } from './helpers/assertions.js';
import { authorizeUrl } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/**
 * GET /oauth/authorize with bad input. While the client or its redirect_uri cannot be trusted the browser gets a
 * readable HTML error page (4xx, no redirect); once both are valid, errors go back to the client (RFC 6749 §4.1.2.1).
 */

/** The error sent back to the client: a 303 to the registered redirect_uri, never a code. */
function redirectedError(res: Response, base: string, where: 'query' | 'fragment') {
  expect(res.status).to.equal(303);
  const location = new URL(res.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).to.equal(`${base}/callback`);
  const params = new URLSearchParams(where === 'query' ? location.search : location.hash.slice(1));
  expect(where === 'query' ? location.hash : location.search, `nothing in the ${where === 'query' ? 'fragment' : 'query'}`).to.equal('');
  expect(params.has('code')).to.equal(false);
  expect(params.has('access_token')).to.equal(false);
  expect(params.get('iss')).to.equal(base);
  return params;
}

describe('GET /oauth/authorize with bad input', () => {
  const server = useTestServer();

  const get = (url: string) => fetch(url, { redirect: 'manual' });
  const authorize = (params: Record<string, string>) => get(authorizeUrl(server.url, params));

  describe('an untrusted client or redirect_uri: an error page, never a redirect', () => {
    it('an unknown client_id → 400 page (invalid_client)', async () => {
      await expectHtmlErrorPage(await authorize({ client_id: 'no-such-client' }), 400, 'invalid_client');
    });

    it('a missing client_id → 400 page (invalid_request) that names the parameter', async () => {
      const url = new URL(authorizeUrl(server.url));
      url.searchParams.delete('client_id');
      const html = await expectHtmlErrorPage(await get(url.href), 400, 'invalid_request');
      expect(html).to.include('client_id');
    });

    it('an empty client_id → 400 page', async () => {
      await expectHtmlErrorPage(await authorize({ client_id: '' }), 400, 'invalid_request');
    });

    it('no parameters at all → 400 page', async () => {
      await expectHtmlErrorPage(await get(`${server.url}/oauth/authorize`), 400, 'invalid_request');
    });

    it('client_id given twice → 400 page', async () => {
      await expectHtmlErrorPage(await get(`${authorizeUrl(server.url)}&client_id=client1`), 400, 'invalid_request');
    });

    it('an unregistered redirect_uri (https://evil.example/cb) → 400 page that neither redirects nor links to it', async () => {
      const html = await expectHtmlErrorPage(await authorize({ redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_redirect_uri');
      expect(html).to.not.include('evil.example');
      expect(html).to.not.match(/<a\s[^>]*href="(?!\/)/i);
      expect(html).to.not.match(/<form/i);
    });

    for (const [label, redirect] of [
      ['the registered URI with a query added', '/callback?x=1'],
      ['the registered URI with a path added', '/callback/x'],
      ['the registered URI with a fragment', '/callback#x'],
      ['a dot-segment path', '/callback/../evil'],
    ] as const) {
      it(`a redirect_uri that is ${label} → 400 page, no redirect`, async () => {
        await expectHtmlErrorPage(await authorize({ redirect_uri: `${server.url}${redirect}` }), 400, 'invalid_redirect_uri');
      });
    }

    it('a redirect_uri on another host that starts like ours → 400 page', async () => {
      const { port } = new URL(server.url);
      await expectHtmlErrorPage(await authorize({ redirect_uri: `http://localhost:${port}.evil.example/callback` }), 400, 'invalid_redirect_uri');
    });

    it('a redirect_uri that is not a URL at all → 400 page', async () => {
      await expectHtmlErrorPage(await authorize({ redirect_uri: 'javascript:alert(1)' }), 400, 'invalid_redirect_uri');
    });

    it('an unregistered redirect_uri wins over any other error: response_type=token still gets the page, not a redirect', async () => {
      const html = await expectHtmlErrorPage(await authorize({ redirect_uri: 'https://evil.example/cb', response_type: 'token' }), 400, 'invalid_redirect_uri');
      expect(html).to.not.include('evil.example');
    });

    it('an unknown client with a redirect_uri of its choosing → page, not a redirect', async () => {
      const html = await expectHtmlErrorPage(await authorize({ client_id: 'evil', redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_client');
      expect(html).to.not.include('evil.example');
    });

    it('escapes what it is given: client_id=<script>alert(1)</script> never appears as markup', async () => {
      const html = await expectHtmlErrorPage(await authorize({ client_id: '<script>alert(1)</script>' }), 400, 'invalid_client');
      expect(html).to.not.include('<script>alert(1)</script>');
      expect(html).to.not.include('alert(1)</script>');
    });

    it('escapes markup in a redirect_uri too', async () => {
      const html = await expectHtmlErrorPage(await authorize({ redirect_uri: `${server.url}/callback"><script>alert(1)</script>` }), 400, 'invalid_redirect_uri');
      expect(html).to.not.include('<script>alert(1)</script>');
    });
  });

  describe('the page tells a person what to do; a client that asks for JSON gets OAuth\'s JSON', () => {
    const probe = (params: Record<string, string>) => fetch(authorizeUrl(server.url, params), { redirect: 'manual', headers: { accept: 'application/json' } });

    it('an unknown client: the page says to connect again from the app', async () => {
      const html = await expectHtmlErrorPage(await authorize({ client_id: 'forgotten-client' }), 400, 'invalid_client');
      expect(html).to.include('Go back to the app and connect again, so that it registers itself anew.');
    });

    it('an unregistered redirect_uri: the page says the app asked for an address it has not registered', async () => {
      const html = await expectHtmlErrorPage(await authorize({ redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_redirect_uri');
      expect(html).to.include('an address it has not registered');
    });

    it('an unknown client probed with Accept: application/json → 400 invalid_client that says it is not registered, and where to register', async () => {
      const res = await probe({ client_id: 'forgotten-client' });
      expect(res.status).to.equal(400);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.headers.get('location')).to.equal(null);
      const body = await res.json();
      expect(body).to.deep.equal({
        error: 'invalid_client',
        error_description: 'the client is not registered with this server',
        registration_endpoint: `${server.url}/oauth/clients`,
      });
      // The words mcp-remote looks for before it registers again.
      expect(body.error_description).to.match(/\bclient(?:\s+id)?\b\s+(?:['"][^'"]+['"]\s+)?is\s+not[\s-]+registered\b/i);
    });

    it('an unregistered redirect_uri probed with Accept: application/json → 400 {error, error_description}', async () => {
      await expectOAuthError(await probe({ redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_redirect_uri');
    });

    it('a browser\'s Accept (HTML first, */* last) still gets the page', async () => {
      const res = await fetch(authorizeUrl(server.url, { client_id: 'forgotten-client' }), {
        redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
      });
      await expectHtmlErrorPage(res, 400, 'invalid_client');
    });
  });

  describe('a valid client and redirect_uri: the error goes back to the client (RFC 6749 §4.1.2.1)', () => {
    it('response_type=token → 303 to the redirect_uri with error=unsupported_response_type and the state (in the fragment)', async () => {
      const res = await authorize({ response_type: 'token', state: 'state-token' });
      expect(res.headers.getSetCookie()).to.deep.equal([]);
      // "token" asks for an implicit-style response, whose default response mode is the fragment (RFC 6749 §4.2.2.1).
      const params = redirectedError(res, server.url, 'fragment');
      expect(params.get('error')).to.equal('unsupported_response_type');
      expect(params.get('error_description')).to.be.a('string').and.not.be.empty;
      expect(params.get('state')).to.equal('state-token');
    });

    it('an unknown response_type → 303 with error=unsupported_response_type in the query', async () => {
      const params = redirectedError(await authorize({ response_type: 'bogus', state: 'state-bogus' }), server.url, 'query');
      expect(params.get('error')).to.equal('unsupported_response_type');
      expect(params.get('state')).to.equal('state-bogus');
    });

    it('a missing response_type → 303 with error=invalid_request naming the parameter', async () => {
      const url = new URL(authorizeUrl(server.url, { state: 'state-missing' }));
      url.searchParams.delete('response_type');
      const params = redirectedError(await get(url.href), server.url, 'query');
      expect(params.get('error')).to.equal('invalid_request');
      expect(params.get('error_description')).to.include('response_type');
      expect(params.get('state')).to.equal('state-missing');
    });

    it('an unsupported PKCE method (plain) → 303 with error=invalid_request', async () => {
      const params = redirectedError(await authorize({ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }), server.url, 'query');
      expect(params.get('error')).to.equal('invalid_request');
      expect(params.get('state')).to.equal('random_state');
    });

    it('an unsupported response_mode → 303 with error=unsupported_response_mode', async () => {
      const params = redirectedError(await authorize({ response_mode: 'bogus' }), server.url, 'query');
      expect(params.get('error')).to.equal('unsupported_response_mode');
    });

    it('an unknown prompt value → 303 with error=invalid_request', async () => {
      const params = redirectedError(await authorize({ prompt: '<script>alert(1)</script>' }), server.url, 'query');
      expect(params.get('error')).to.equal('invalid_request');
    });
  });

  it('other methods on /oauth/authorize are a JSON 4xx, not a 500', async () => {
    for (const method of ['PUT', 'DELETE']) {
      const res = await fetch(`${server.url}/oauth/authorize`, { method, redirect: 'manual' });
      const text = await res.text();
      expect(res.status, `${method}: ${text}`).to.be.within(400, 499);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(Object.keys(JSON.parse(text))).to.have.members(['error', 'error_description']);
    }
  });
});
