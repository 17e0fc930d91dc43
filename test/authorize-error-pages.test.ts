import { expect } from 'chai';
import { expectHtmlErrorPage } from './helpers/assertions.js';
import { Browser, decodeEntities } from './helpers/browser.js';
import { authorizeUrl, form, json, pkce, registerUser, uniqueName } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { authorize, connect, hostRedirect, interactionPage, servedDocuments, signInThere, type Host } from './helpers/third-party.js';

/**
 * RFC 9700 §4.11.2: the authorization server sends the browser to a redirect URI by itself only if it trusts it. Anyone
 * can register an app here (DCR, Client ID Metadata Documents) with a redirect URI of their choosing, so an error at
 * /oauth/authorize before the person did anything here (no session for prompt=none, no PKCE, a bad prompt or scope)
 * must not send any visitor there: a page names the error, the app and where it wanted to go, and the person decides.
 * The operator's own clients, a person's answer on the consent page, and apps the signed-in user already let in keep
 * the redirect.
 */
describe('authorization errors of self-registered apps: a page, not a redirect (RFC 9700 §4.11.2)', () => {
  const documents = new Map<string, unknown>();
  const server = useTestServer({}, { outboundFetch: servedDocuments(documents) });

  interface App extends Host {
    /** What the page says the app goes back to. */
    returnHost: string;
    domain?: string;
  }

  async function dcrApp(redirectUri: string, returnHost: string, name = uniqueName('app')): Promise<App> {
    const res = await fetch(`${server.url}/oauth/clients`, json({ client_name: name, redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }));
    expect(res.status, await res.clone().text()).to.equal(201);
    return { clientId: (await res.json()).client_id, name, redirectUri, returnHost };
  }

  let documentCount = 0;
  function cimdApp(name = uniqueName('cimd')): App {
    const clientId = `https://apps.example.org/${++documentCount}/client.json`;
    const redirectUri = 'https://apps.example.org/cb';
    documents.set(clientId, { client_id: clientId, client_name: name, redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' });
    return { clientId, name, redirectUri, returnHost: 'apps.example.org', domain: 'apps.example.org' };
  }

  const APPS: [string, () => Promise<App>][] = [
    ['a DCR app with an https redirect', () => dcrApp('https://app.example/cb', 'app.example')],
    ['a DCR native app with a private-use scheme', () => dcrApp('cursor://anysphere.cursor-mcp/oauth/callback', 'cursor://anysphere.cursor-mcp')],
    ['a Client ID Metadata Document app', async () => cimdApp()],
  ];

  /** An MCP host's request, as test/helpers/third-party.ts authorize() makes it; a parameter given as '' is left out. */
  function requestUrl(app: Host, params: Record<string, string> = {}) {
    const all = {
      client_id: app.clientId, redirect_uri: app.redirectUri, response_type: 'code', state: 'st-1',
      code_challenge: pkce().challenge, code_challenge_method: 'S256', resource: `${server.url}/mcp`, ...params,
    };
    return `${server.url}/oauth/authorize?${new URLSearchParams(Object.entries(all).filter(([, v]) => v !== ''))}`;
  }

  const get = (url: string, init: RequestInit = {}) => fetch(url, { redirect: 'manual', ...init });

  /** The link back to the app on the page, decoded: it carries what the redirect would have. */
  function returnLink(html: string): URL {
    const link = /<a href="([^"]+)" rel="noreferrer">Go back to /.exec(html);
    expect(link, 'a link back to the app').to.not.equal(null);
    return new URL(decodeEntities(link![1]!));
  }

  /** The page instead of the redirect: a readable error page that names the app and where it wanted to go. */
  async function expectAppErrorPage(res: Response, app: App, error: string, options: { signedIn?: boolean } = {}) {
    const html = await expectHtmlErrorPage(res, 400, error, options);
    expect(html).to.include(`<strong class="client-name">${app.name}</strong>`);
    expect(html).to.include(`<strong class="return-host">${app.returnHost}</strong>`);
    expect(html).to.include('You were not sent there by this server');
    if (app.domain) expect(html).to.include(`<strong class="client-domain">${app.domain}</strong>`);
    else expect(html).to.not.include('client-domain');
    return html;
  }

  /** The link goes to the registered redirect URI with the error, the state and the issuer, in the query. */
  function expectReturnQuery(html: string, app: App, error: string) {
    expect(html, 'no form posting anywhere').to.not.match(/<form/i);
    const link = returnLink(html);
    expect(link.href.replace(/\?.*$/s, '')).to.equal(app.redirectUri);
    expect(link.searchParams.get('error')).to.equal(error);
    expect(link.searchParams.get('state')).to.equal('st-1');
    expect(link.searchParams.get('iss')).to.equal(server.url);
    expect(link.searchParams.has('code')).to.equal(false);
    return link;
  }

  /** Errors before anyone signed in, each with words of the page that explain it (plain, or the server's reason). */
  const QUERY_CASES: [string, Record<string, string>, string, string][] = [
    ['prompt=none without a session', { prompt: 'none' }, 'login_required', 'you are not signed in here'],
    ['no PKCE', { code_challenge: '', code_challenge_method: '' }, 'invalid_request', 'requires PKCE'],
    ['an unknown prompt value', { prompt: 'bogus' }, 'invalid_request', 'unsupported prompt value requested'],
    ['an invalid scope', { scope: 'notes:read\u0000' }, 'invalid_scope', 'permissions this server does not have'],
  ];

  for (const [label, makeApp] of APPS) {
    describe(label, () => {
      let app: App;
      before(async () => {
        app = await makeApp();
      });

      for (const [what, params, error, words] of QUERY_CASES) {
        it(`${what} → 400 page (${error}) that says why, with a link back and no redirect`, async () => {
          const html = await expectAppErrorPage(await get(requestUrl(app, params)), app, error);
          expect(html).to.include(words);
          expectReturnQuery(html, app, error);
        });
      }

      it('response_mode=form_post → 400 page with a form to submit by hand: no script, nothing submitted by itself', async () => {
        const html = await expectAppErrorPage(await get(requestUrl(app, { prompt: 'none', response_mode: 'form_post' })), app, 'login_required');
        const forms = [...html.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
        expect(forms).to.have.length(1);
        expect(decodeEntities(forms[0]![1]!)).to.equal(app.redirectUri);
        const fields = Object.fromEntries([...forms[0]![2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)]
          .map((m) => [m[1]!, decodeEntities(m[2]!)]));
        expect(fields).to.include({ error: 'login_required', state: 'st-1', iss: server.url });
        expect(forms[0]![2]).to.match(/<button type="submit"[^>]*>Go back to /);
      });
    });
  }

  it('response_mode=fragment → the link carries the error in the fragment', async () => {
    const app = await dcrApp('https://fragment.example/cb', 'fragment.example');
    const html = await expectAppErrorPage(await get(requestUrl(app, { prompt: 'none', response_mode: 'fragment' })), app, 'login_required');
    const link = returnLink(html);
    expect(link.search).to.equal('');
    expect(new URLSearchParams(link.hash.slice(1)).get('error')).to.equal('login_required');
  });

  it('a pushed authorization request (PAR, RFC 9126) with prompt=none → the page at /oauth/authorize, no redirect', async () => {
    const app = await dcrApp('https://par.example/cb', 'par.example');
    const pushed = await fetch(`${server.url}/oauth/par`, form({
      client_id: app.clientId, redirect_uri: app.redirectUri, response_type: 'code', state: 'st-1', prompt: 'none',
      code_challenge: pkce().challenge, code_challenge_method: 'S256', resource: `${server.url}/mcp`,
    }));
    expect(pushed.status, await pushed.clone().text()).to.equal(201);
    const { request_uri: requestUri } = await pushed.json() as { request_uri: string };
    const res = await get(`${server.url}/oauth/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: requestUri })}`);
    expectReturnQuery(await expectAppErrorPage(res, app, 'login_required'), app, 'login_required');
  });

  it('a client asking for JSON gets OAuth\'s JSON error (400), not a redirect', async () => {
    const app = await dcrApp('https://json.example/cb', 'json.example');
    const res = await get(requestUrl(app, { prompt: 'none' }), { headers: { accept: 'application/json' } });
    expect(res.status).to.equal(400);
    expect(res.headers.get('location')).to.equal(null);
    expect(await res.json()).to.deep.equal({ error: 'login_required', error_description: 'End-User authentication is required' });
  });

  it('escapes the app\'s name, which it chose itself', async () => {
    const app = await dcrApp('https://escape.example/cb', 'escape.example', '<img src=x onerror=alert(1)> Official');
    const res = await get(requestUrl(app, { prompt: 'none' }));
    const html = await expectHtmlErrorPage(res, 400, 'login_required');
    expect(html).to.include('<strong class="client-name">&lt;img src=x onerror=alert(1)&gt; Official</strong>');
    expect(html).to.not.include('<img src=x');
  });

  it('a signed-in user who never let the app in: prompt=none (consent_required) gets the page, not a redirect', async () => {
    const app = await dcrApp('https://victim.example/cb', 'victim.example');
    const browser = new Browser(server.url);
    const user = await registerUser(server.url);
    expect((await browser.fetch('/oauth/login', json({ username: user.username, password: user.password }))).status).to.equal(200);
    const html = await expectAppErrorPage(await browser.fetch(requestUrl(app, { prompt: 'none' })), app, 'consent_required', { signedIn: true });
    expectReturnQuery(html, app, 'consent_required');
  });

  describe('what still redirects', () => {
    it('Deny on the consent page: the person chose, so access_denied goes back to the app', async () => {
      for (const app of [await dcrApp('https://deny.example/cb', 'deny.example'), cimdApp()]) {
        const browser = new Browser(server.url);
        const { state, ...start } = await authorize(browser, app);
        const { html } = await interactionPage(await signInThere(browser, start, await registerUser(server.url)));
        const denied = await browser.submit(html, '/deny', {});
        expect(denied.res.status).to.equal(303);
        expect(hostRedirect(denied, app, state).get('error')).to.equal('access_denied');
      }
    });

    it('Cancel on the login page: access_denied goes back to the app', async () => {
      const app = await dcrApp('cursor://anysphere.cursor-mcp/oauth/callback', 'cursor://anysphere.cursor-mcp');
      const browser = new Browser(server.url);
      const { state, ...start } = await authorize(browser, app);
      const cancelled = await browser.submit((await interactionPage(start)).html, '/abort', {});
      expect(hostRedirect(cancelled, app, state).get('error')).to.equal('access_denied');
    });

    it('the success flow: sign in, Allow, a code at the app', async () => {
      for (const app of [await dcrApp('https://ok.example/cb', 'ok.example'), cimdApp()]) {
        const { tokens } = await connect(new Browser(server.url), app, await registerUser(server.url));
        expect(tokens.access_token).to.be.a('string');
      }
    });

    it('client1 (the operator\'s own): prompt=none without a session still redirects with login_required', async () => {
      const res = await get(authorizeUrl(server.url, { prompt: 'none' }));
      expect(res.status).to.equal(303);
      const location = new URL(res.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).to.equal(`${server.url}/callback`);
      expect(location.searchParams.get('error')).to.equal('login_required');
    });

    it('client1 with response_mode=form_post: still the provider\'s self-submitting form to its callback', async () => {
      const res = await get(authorizeUrl(server.url, { prompt: 'none', response_mode: 'form_post' }));
      const html = await res.text();
      expect(res.status).to.equal(400);
      expect(html).to.include(`<form method="post" action="${server.url}/callback">`);
      expect(html).to.include('<input type="hidden" name="error" value="login_required"/>');
      expect(html).to.match(/<script>[\s\S]*submit\(\)/);
    });

    it('mcp-cli (the operator\'s own, public): a request without PKCE still redirects to its loopback', async () => {
      const res = await get(authorizeUrl(server.url, { client_id: 'mcp-cli', redirect_uri: 'http://127.0.0.1:45123/callback' }));
      expect(res.status).to.equal(303);
      const location = new URL(res.headers.get('location')!);
      expect(location.origin).to.equal('http://127.0.0.1:45123');
      expect(location.searchParams.get('error')).to.equal('invalid_request');
    });
  });

  describe('an app the signed-in user already let in (its code would come back silently)', () => {
    /** The app connected with notes:read only, and the browser still signed in. */
    async function connected(app: App) {
      const browser = new Browser(server.url);
      await connect(browser, app, await registerUser(server.url), { scope: 'notes:read' });
      return browser;
    }

    it('prompt=none asking for more (consent_required) redirects to the app, as OpenID silent sign-in needs', async () => {
      const app = await dcrApp('https://granted.example/cb', 'granted.example');
      const browser = await connected(app);
      const res = await browser.fetch(requestUrl(app, { prompt: 'none', scope: 'notes:read notes:write' }));
      expect(res.status, await res.clone().text()).to.equal(303);
      const location = new URL(res.headers.get('location')!);
      expect(location.href.replace(/\?.*$/s, '')).to.equal(app.redirectUri);
      expect(location.searchParams.get('error')).to.equal('consent_required');
      expect(location.searchParams.get('state')).to.equal('st-1');
    });

    it('the same from another browser, where the user signs in afresh: the consent is remembered, so it redirects too', async () => {
      const app = cimdApp();
      const user = await registerUser(server.url);
      await connect(new Browser(server.url), app, user, { scope: 'notes:read' });
      const other = new Browser(server.url);
      expect((await other.fetch('/oauth/login', json({ username: user.username, password: user.password }))).status).to.equal(200);
      const res = await other.fetch(requestUrl(app, { prompt: 'none', scope: 'notes:read notes:write' }));
      expect(res.status, await res.clone().text()).to.equal(303);
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).to.equal('consent_required');
    });

    it('a request the provider refuses before it looks at the grant (no PKCE) still gets the page', async () => {
      const app = await dcrApp('https://granted-nopkce.example/cb', 'granted-nopkce.example');
      const browser = await connected(app);
      const res = await browser.fetch(requestUrl(app, { code_challenge: '', code_challenge_method: '' }));
      await expectAppErrorPage(res, app, 'invalid_request', { signedIn: true });
    });

    it('never to a private-use scheme: a native app gets the page even so', async () => {
      const app = await dcrApp('com.example.granted:/cb', 'com.example.granted');
      const browser = await connected(app);
      const res = await browser.fetch(requestUrl(app, { prompt: 'none', scope: 'notes:read notes:write' }));
      // The provider has native apps always ask the person (interaction_required), granted or not.
      const html = await expectAppErrorPage(res, app, 'interaction_required', { signedIn: true });
      expect(returnLink(html).protocol).to.equal('com.example.granted:');
    });
  });
});
