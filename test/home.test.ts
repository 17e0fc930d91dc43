import { expect } from 'chai';
import { expectHtmlErrorPage, expectHtmlPage, expectOAuthError } from './helpers/assertions.js';
import { Browser, decodeEntities } from './helpers/browser.js';
import { csrfOf, postForm } from './helpers/forms.js';
import { authorizeUrl, json, loggedInBrowser, registerUser, uniqueName } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/**
 * The home page (`/`) and the sign-up page it links to (`/signup`), over HTTP. In chromium:
 * test/browser/home.browser.ts.
 */

const linkTo = (html: string, href: string) => new RegExp(`<a[^>]* href="${href.replace(/[/.?]/g, '\\$&')}"[^>]*>([^<]*)</a>`).exec(html)?.[1];

/** The sign-up form's fields as a person fills them in. */
const newAccount = (username = uniqueName('home'), password = 'password123') => ({ username, password, confirm: password });

describe('the home page', () => {
  const server = useTestServer();

  it('a visitor: sign in (the connected-apps page), create an account (/signup), the MCP URL and the CLI command', async () => {
    const res = await fetch(`${server.url}/`);
    const html = await expectHtmlPage(res, 200);
    expect(res.headers.get('vary')).to.match(/Accept/);
    expect(html).to.include('<title>MCP notes server</title>');
    expect(linkTo(html, '/account')).to.equal('Sign in');
    expect(linkTo(html, '/signup')).to.equal('Create one');
    expect(html).to.include(`<input id="mcp-url" type="text" value="${server.url}/mcp" readonly`);
    expect(html).to.include('<label for="mcp-url">MCP server URL</label>');
    expect(html).to.match(/add a remote MCP server with this URL/);
    expect(html).to.include(`<code>mcp-oauth login --server ${server.url}</code>`);
    expect(html).to.not.include('Sign out');
    expect(html).to.not.include('Apps cannot register themselves here');
    expect(res.headers.getSetCookie(), 'a visit stores nothing and sets no cookie').to.deep.equal([]);
  });

  it('runs no inline script (the CSP forbids it): only the Copy button\'s file', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.headers.get('content-security-policy')).to.include("script-src 'self'");
    const html = await res.text();
    expect([...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => [m[1]!.trim(), m[2]!.trim()]))
      .to.deep.equal([['src="/assets/copy.js"', '']]);
    expect(html).to.not.match(/\son[a-z]+\s*=/i);
  });

  it('a signed-in user: who they are, their connected apps and signing out; no sign-in or sign-up', async () => {
    const { browser, user } = await loggedInBrowser(server.url);
    const html = await expectHtmlPage(await browser.fetch('/'), 200);
    expect(html).to.include(`Signed in as <strong>${user.username}</strong>`);
    expect(linkTo(html, '/account')).to.equal('Connected apps');
    expect(linkTo(html, '/oauth/logout')).to.equal('Sign out');
    expect(html).to.not.include('href="/signup"');
    expect(html).to.include(`value="${server.url}/mcp"`);
  });

  it('Accept: application/json → the issuer, the MCP endpoint and the metadata URLs', async () => {
    const res = await fetch(`${server.url}/`, { headers: { accept: 'application/json' } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.headers.get('vary')).to.match(/Accept/);
    const body = await res.json();
    expect(body).to.deep.equal({
      issuer: server.url,
      mcp_endpoint: `${server.url}/mcp`,
      protected_resource_metadata: `${server.url}/.well-known/oauth-protected-resource/mcp`,
      authorization_server_metadata: `${server.url}/.well-known/oauth-authorization-server`,
      openid_configuration: `${server.url}/.well-known/openid-configuration`,
      signup: 'open',
    });
    for (const url of [body.protected_resource_metadata, body.authorization_server_metadata, body.openid_configuration]) {
      expect((await fetch(url)).status, url).to.equal(200);
    }
  });

  it('a browser\'s Accept (HTML first, */* last) and curl\'s */* get the page', async () => {
    for (const accept of ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', '*/*']) {
      const res = await fetch(`${server.url}/`, { headers: { accept } });
      expect(res.headers.get('content-type'), accept).to.match(/^text\/html/);
    }
  });

  it('HEAD / answers as GET does, without a body; POST / → 405 with Allow', async () => {
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers.get('content-type')).to.match(/^text\/html/);
    expect(await head.text()).to.equal('');
    const post = await fetch(`${server.url}/`, json({}));
    await expectOAuthError(post, 405, 'invalid_request');
    expect(post.headers.get('allow')).to.match(/GET/);
  });

  describe('with SIGNUP=closed and CLIENT_REGISTRATION=closed', () => {
    const closed = useTestServer({ SIGNUP: 'closed', CLIENT_REGISTRATION: 'closed' });

    it('says which apps can still connect', async () => {
      const html = await expectHtmlPage(await fetch(`${closed.url}/`), 200);
      expect(html).to.match(/Apps cannot register themselves here: only those that publish a description of themselves/);
    });

    it('offers signing in only, and says who creates accounts', async () => {
      const html = await expectHtmlPage(await fetch(`${closed.url}/`), 200);
      expect(linkTo(html, '/account')).to.equal('Sign in');
      expect(html).to.not.include('/signup');
      expect(html).to.include('Accounts are created by the operator of this server.');
      const body = await (await fetch(`${closed.url}/`, { headers: { accept: 'application/json' } })).json();
      expect(body.signup).to.equal('closed');
    });
  });
});

describe('the sign-up page (/signup)', () => {
  const server = useTestServer();

  /** Opens /signup in `browser`: its form, with the CSRF token this browser's cookie goes with. */
  async function signupPage(browser: Browser) {
    const html = await expectHtmlPage(await browser.fetch('/signup'), 200);
    return { html, csrf: csrfOf(html) };
  }

  it('has the registration form, posting to /signup, and a link to signing in; its CSRF cookie is scoped to /signup', async () => {
    const browser = new Browser(server.url);
    const res = await browser.fetch('/signup');
    const html = await expectHtmlPage(res, 200);
    expect(html).to.include('<form method="post" action="/signup">');
    for (const field of ['username', 'password', 'confirm']) expect(html).to.match(new RegExp(`<label for="${field}">`));
    expect(linkTo(html, '/account')).to.equal('Sign in');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('signup.csrf='));
    expect(cookie).to.match(/path=\/signup/i).and.match(/httponly/i).and.match(/samesite=strict/i);
  });

  it('creates the account, signs the browser in and goes home, which shows the new user', async () => {
    const browser = new Browser(server.url);
    const { html } = await signupPage(browser);
    const account = newAccount();
    const { res, url } = await browser.submit(html, '/signup', account);
    expect(url.pathname).to.equal('/');
    expect(await res.text()).to.include(`Signed in as <strong>${account.username}</strong>`);
    // The session is the provider's: /oauth/authorize goes straight to client1's callback.
    const authorize = await browser.fetch(authorizeUrl(server.url));
    expect(new URL(authorize.headers.get('location')!, server.url).pathname).to.equal('/callback');
    expect((await fetch(`${server.url}/oauth/login`, json({ username: account.username, password: account.password }))).status).to.equal(200);
  });

  it('says what is wrong with the form and keeps the username: a bad name, different passwords, a taken name', async () => {
    const taken = await registerUser(server.url);
    const browser = new Browser(server.url);
    const cases: [Record<string, string>, number, RegExp][] = [
      [newAccount('no'), 400, /username must be 3 to 64 characters/],
      [{ ...newAccount(), password: 'short' }, 400, /password must be 8 to 1024 bytes/],
      [{ ...newAccount(), confirm: 'another password' }, 400, /two passwords do not match/],
      [newAccount(taken.username), 409, /already taken/],
    ];
    for (const [fields, status, error] of cases) {
      const { html } = await signupPage(browser);
      const { res } = await browser.submit(html, '/signup', fields);
      const page = await expectHtmlPage(res, status);
      expect(decodeEntities(/<p class="error" role="alert">([^<]*)<\/p>/.exec(page)?.[1] ?? '')).to.match(error);
      expect(page).to.include(`value="${fields.username}"`);
      expect(page).to.include('<form method="post" action="/signup">');
    }
  });

  it('refuses a post without the form\'s token, with another browser\'s token, or from another site (403, nothing created)', async () => {
    const account = newAccount();
    const browser = new Browser(server.url);
    await signupPage(browser);
    await expectHtmlErrorPage((await postForm(browser, '/signup', account)).res, 403, 'invalid_request');
    const { csrf: othersToken } = await signupPage(new Browser(server.url));
    await expectHtmlErrorPage((await postForm(browser, '/signup', { ...account, csrf: othersToken })).res, 403, 'invalid_request');
    const { html } = await signupPage(browser);
    const { res } = await browser.submit(html, '/signup', account, { 'sec-fetch-site': 'cross-site' });
    await expectHtmlErrorPage(res, 403, 'invalid_request');
    expect((await fetch(`${server.url}/oauth/login`, json({ username: account.username, password: account.password }))).status).to.equal(401);
  });

  it('an /account form\'s token does not work here', async () => {
    const browser = new Browser(server.url);
    await signupPage(browser);
    const accountPage = await (await browser.fetch('/account')).text();
    const { res } = await postForm(browser, '/signup', { ...newAccount(), csrf: csrfOf(accountPage) });
    await expectHtmlErrorPage(res, 403, 'invalid_request');
  });

  describe('counts against LIMIT_REGISTRATIONS_PER_IP like the JSON endpoint', () => {
    const limited = useTestServer({ LIMIT_REGISTRATIONS_PER_IP: '1' });

    it('the second sign-up from one address within the hour → 429 page with Retry-After', async () => {
      const first = new Browser(limited.url);
      expect((await first.submit((await signupPage(first)).html, '/signup', newAccount())).url.pathname).to.equal('/');
      const second = new Browser(limited.url);
      const { res } = await second.submit((await signupPage(second)).html, '/signup', newAccount());
      await expectHtmlErrorPage(res, 429, 'too_many_requests');
      expect(Number(res.headers.get('retry-after'))).to.be.greaterThan(0);
      await expectOAuthError(await fetch(`${limited.url}/oauth/register`, json({ username: uniqueName(), password: 'password123' })), 429, 'too_many_requests');
    });
  });
});
