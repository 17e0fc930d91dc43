import { expect } from 'chai';
import { expectHtmlPage } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { json, loggedInBrowser, registerUser, uniqueName } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { connect, type Host } from './helpers/third-party.js';

/**
 * Sign-out and its redirect back to the app (issue 12, finding 2). OpenID Connect RP-Initiated Logout lets the server
 * redirect to a post_logout_redirect_uri only when it can tie the request to the app: its id_token_hint. Registration
 * is open, so anyone can list any https URI as theirs; the hint must also name the user signed in in this browser.
 * Otherwise the sign-out still happens, and ends on this server's own page.
 */
describe('sign-out: the redirect back to the app (RP-Initiated Logout)', () => {
  const server = useTestServer();
  const AFTER_LOGOUT = 'https://rp.example/signed-out';

  /** An app registered by DCR, as an attacker could register it: its own post-logout URI, an OpenID scope. */
  async function registerApp(postLogoutRedirectUri = AFTER_LOGOUT): Promise<Host> {
    const name = uniqueName('rp');
    const redirectUri = 'http://127.0.0.1:45999/cb';
    const res = await fetch(`${server.url}/oauth/clients`, json({
      client_name: name, redirect_uris: [redirectUri], post_logout_redirect_uris: [postLogoutRedirectUri], token_endpoint_auth_method: 'none',
    }));
    expect(res.status, await res.clone().text()).to.equal(201);
    return { clientId: (await res.json()).client_id, name, redirectUri };
  }

  /** A user signs in to `app` in a browser and gets an ID token for it; the browser keeps the session. */
  async function signedInTo(app: Host) {
    const browser = new Browser(server.url);
    const { tokens } = await connect(browser, app, await registerUser(server.url), { scope: 'openid', resource: undefined });
    const idToken = (tokens as unknown as { id_token?: string }).id_token;
    expect(idToken, 'an ID token').to.be.a('string');
    return { browser, idToken: idToken! };
  }

  const logoutUrl = (params: Record<string, string>) => `/oauth/logout?${new URLSearchParams(params)}`;

  /** Goes through the sign-out from `start` (the confirmation page, or the form that submits itself) and says where it ends. */
  async function signOutFrom(browser: Browser, start: { res: Response; url: URL }, answer: Record<string, string> = { logout: 'yes' }) {
    expect(start.url.pathname).to.equal('/oauth/logout');
    const html = await expectHtmlPage(start.res, 200);
    return (await browser.submit(html, '/oauth/logout/confirm', answer)).url;
  }

  const onOurSignedOutPage = (url: URL) => {
    expect(url.origin, `the sign-out went on to ${url.href}`).to.equal(server.url);
    expect(url.pathname).to.equal('/oauth/logout/success');
  };

  describe('without an id_token_hint, the registered URI is not followed', () => {
    it('a browser with no session: the form that submits itself ends on our page, not the app\'s URI', async () => {
      const app = await registerApp('https://evil.example/phish');
      const browser = new Browser(server.url);
      const start = await browser.follow(logoutUrl({ client_id: app.clientId, post_logout_redirect_uri: 'https://evil.example/phish', state: 's1' }));
      onOurSignedOutPage(await signOutFrom(browser, start, {}));
    });

    for (const [label, answer] of [['"Yes, sign me out"', { logout: 'yes' }], ['"No, stay signed in"', {}]] as const) {
      it(`a signed-in browser that answers ${label} stays on our page`, async () => {
        const app = await registerApp();
        const { browser } = await signedInTo(app);
        onOurSignedOutPage(await signOutFrom(browser, await browser.follow(logoutUrl({ client_id: app.clientId, post_logout_redirect_uri: AFTER_LOGOUT })), answer));
      });
    }
  });

  describe('with an id_token_hint', () => {
    it('the app\'s own ID token for the user signed in here: back to its registered URI, with the state', async () => {
      const app = await registerApp();
      const { browser, idToken } = await signedInTo(app);
      const url = await signOutFrom(browser, await browser.follow(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: AFTER_LOGOUT, state: 'xyz' })));
      expect(url.href).to.equal(`${AFTER_LOGOUT}?state=xyz`);
      const again = await browser.fetch('/oauth/logout');
      expect(await again.text(), 'signed out: no confirmation page any more').to.not.include('Yes, sign me out');
    });

    it('an attacker\'s own valid ID token, for their own app, in someone else\'s signed-in browser: our page', async () => {
      const app = await registerApp('https://evil.example/phish');
      const { idToken } = await signedInTo(app);
      const { browser: victim } = await loggedInBrowser(server.url);
      const link = logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/phish' });
      onOurSignedOutPage(await signOutFrom(victim, await victim.follow(link)));
    });

    it('the same token in a browser with no session: our page', async () => {
      const app = await registerApp('https://evil.example/phish');
      const { idToken } = await signedInTo(app);
      const browser = new Browser(server.url);
      const start = await browser.follow(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/phish' }));
      onOurSignedOutPage(await signOutFrom(browser, start, {}));
    });

    it('a URI the app did not register: an error page, no redirect', async () => {
      const app = await registerApp();
      const { browser, idToken } = await signedInTo(app);
      const { res, url } = await browser.follow(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: 'https://rp.example/other' }));
      expect(url.origin).to.equal(server.url);
      expect(res.status).to.equal(400);
    });
  });

  it('the signed-out page names the app by its escaped name', async () => {
    const res = await fetch(`${server.url}/oauth/clients`, json({
      client_name: '<img src=x onerror=alert(1)>', redirect_uris: ['http://127.0.0.1:45999/cb'], token_endpoint_auth_method: 'none',
    }));
    const { client_id: clientId } = await res.json();
    const html = await expectHtmlPage(await fetch(`${server.url}/oauth/logout/success?client_id=${encodeURIComponent(clientId)}`), 200);
    expect(html).to.include('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).to.not.include('<img src=x');
  });
});
