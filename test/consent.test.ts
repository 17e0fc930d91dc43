import { expect } from 'chai';
import { expectHtmlPage } from './helpers/assertions.js';
import { Browser, decodeEntities } from './helpers/browser.js';
import { csrfOf, postForm } from './helpers/forms.js';
import { registerUser } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import {
  authorize, connect, exchangeOk, hostRedirect, interactionPage, introspect, registerHost, RESOURCE_SERVER_ENV,
  signInThere,
} from './helpers/third-party.js';

/**
 * The consent page third-party hosts get (issue 4): what it shows, Allow and Deny, its CSRF and origin checks, and
 * consent remembered per user and client across browser sessions, asked again only for scopes not yet granted.
 */

/** The text of each item of the page's scope list, entities decoded. */
const listedScopes = (html: string) => {
  const list = /<ul class="scopes"[^>]*>([\s\S]*?)<\/ul>/.exec(html);
  expect(list, 'a list of what the app may do').to.not.equal(null);
  return [...list![1]!.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => decodeEntities(m[1]!.replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim());
};

describe('consent for third-party hosts', () => {
  const server = useTestServer(RESOURCE_SERVER_ENV);

  /** A new user and host, and a browser on the host's consent page (after signing in on the login page). */
  async function onConsentPage(params: Record<string, string> = {}, name?: string) {
    const user = await registerUser(server.url);
    const host = await registerHost(server.url, name);
    const browser = new Browser(server.url);
    const started = await authorize(browser, host, params);
    const step = await signInThere(browser, started, user);
    const page = await interactionPage(step);
    expect(page.html, 'the consent page').to.include('/consent"');
    return { user, host, browser, ...started, step, ...page };
  }

  describe('the page', () => {
    it('the login page on the way names the app by its name, escaped, not by its random id', async () => {
      const host = await registerHost(server.url, 'Notes <b>Helper</b>');
      const started = await authorize(new Browser(server.url), host);
      const html = await started.res.text();
      expect(html).to.include('to continue to <strong>Notes &lt;b&gt;Helper&lt;/b&gt;</strong>');
      expect(html).to.not.include(host.clientId);
    });

    it('names the app and where it sends you back, and says in plain words what it will be able to do', async () => {
      const { host, user, step, html } = await onConsentPage();
      expect(step.res.headers.get('content-type')).to.match(/^text\/html/);
      expect(html).to.include('<title>Allow access?</title>');
      expect(html).to.include(`<strong class="client-name">${host.name}</strong>`);
      expect(html).to.include(`<strong>${new URL(host.redirectUri).host}</strong>`);
      expect(html).to.include(`<strong>${user.username}</strong>`);
      expect(html).to.match(/will be able to:/);
      expect(listedScopes(html)).to.deep.equal(['Read your notes notes:read', 'Add and delete your notes notes:write']);
      expect(html).to.match(/<button type="submit">Allow<\/button>/);
      expect(html).to.match(/<button type="submit"[^>]*>Deny<\/button>/);
      expect(html).to.include('href="/account"');
    });

    it('is never cached or framed and runs no script; both forms post here with the interaction\'s CSRF token', async () => {
      const { step, html, uid } = await onConsentPage();
      expect(step.res.headers.get('cache-control')).to.equal('no-store');
      expect(step.res.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
      expect(step.res.headers.get('x-frame-options')).to.equal('DENY');
      expect(html).to.not.match(/<script|\son[a-z]+\s*=/i);
      for (const action of ['consent', 'deny']) {
        const form = new RegExp(`<form method="post" action="/interaction/${uid}/${action}"[^>]*>\\s*<input type="hidden" name="csrf" value="[^"]{40,}">`);
        expect(html, `the ${action} form`).to.match(form);
      }
    });

    it('shows a client_name with markup as text, never as markup', async () => {
      const evil = '<img src=x onerror=alert(1)>';
      const { html } = await onConsentPage({}, evil);
      expect(html).to.not.include('<img');
      expect(html).to.include('&lt;img src=x onerror=alert(1)&gt;');
    });

    it('describes OIDC scopes too, and lists exactly what the request names', async () => {
      const { html } = await onConsentPage({ scope: 'openid profile notes:read' });
      expect(listedScopes(html)).to.deep.equal([
        'Sign you in with your account openid',
        'See your user id and username profile',
        'Read your notes notes:read',
      ]);
    });
  });

  describe('Allow', () => {
    it('redirects to the host with a code, the state and iss; the code gives audience-bound MCP tokens to a public client', async () => {
      const { host, browser, html, state, verifier } = await onConsentPage();
      const allowed = await browser.submit(html, '/consent', {});
      expect(allowed.res.status).to.equal(303);
      const query = hostRedirect(allowed, host, state);
      expect(query.get('iss')).to.equal(server.url);
      expect(query.has('error')).to.equal(false);

      const tokens = await exchangeOk(server.url, host, query.get('code')!, verifier);
      expect(tokens.scope).to.equal('notes:read notes:write');
      expect(tokens.token_type).to.equal('Bearer');
      expect(tokens.refresh_token).to.be.a('string').and.not.be.empty;
      const info = await introspect(server.url, tokens.access_token);
      expect(info).to.include({ active: true, client_id: host.clientId, aud: `${server.url}/mcp`, scope: 'notes:read notes:write' });
    });
  });

  describe('Deny', () => {
    it('redirects to the host with error=access_denied and no code, and remembers nothing', async () => {
      const { host, browser, html, state } = await onConsentPage();
      const denied = await browser.submit(html, '/deny', {});
      const query = hostRedirect(denied, host, state);
      expect(query.get('error')).to.equal('access_denied');
      expect(query.get('error_description')).to.equal('the user denied access');
      expect(query.has('code')).to.equal(false);

      const again = await interactionPage(await authorize(browser, host));
      expect(again.html, 'asked again').to.include('/consent"');
      expect(listedScopes(again.html)).to.have.length(2);
    });
  });

  describe('remembered per user and client', () => {
    it('a second authorization in the same browser goes straight back to the host with a code', async () => {
      const user = await registerUser(server.url);
      const host = await registerHost(server.url);
      const browser = new Browser(server.url);
      const first = await connect(browser, host, user);
      expect(first.consentPage, 'asked the first time').to.be.a('string');

      const second = await authorize(browser, host);
      expect(hostRedirect(second, host, second.state).get('code')).to.be.a('string');
    });

    it('a new browser asks only to sign in, even after the first one signed out', async () => {
      const user = await registerUser(server.url);
      const host = await registerHost(server.url);
      const first = new Browser(server.url);
      await connect(first, host, user);
      const logout = await first.follow('/oauth/logout');
      const signedOut = await first.submit(await logout.res.text(), '/oauth/logout/confirm', { logout: 'yes' });
      expect(await signedOut.res.text()).to.include('You are signed out');

      for (const browser of [new Browser(server.url), first]) {
        const started = await authorize(browser, host);
        const step = await signInThere(browser, started, user);
        const query = hostRedirect(step, host, started.state);
        const tokens = await exchangeOk(server.url, host, query.get('code')!, started.verifier);
        expect(tokens.scope).to.equal('notes:read notes:write');
      }
    });

    it('is per user: another user of the same host is asked', async () => {
      const host = await registerHost(server.url);
      await connect(new Browser(server.url), host, await registerUser(server.url));
      const { consentPage } = await connect(new Browser(server.url), host, await registerUser(server.url));
      expect(consentPage, 'the second user is asked').to.be.a('string');
    });

    it('is per client: another host of the same user is asked', async () => {
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      await connect(browser, await registerHost(server.url), user);
      const { consentPage } = await connect(browser, await registerHost(server.url), user);
      expect(consentPage, 'the second host is asked').to.be.a('string');
    });

    it('asking for more scopes asks only for the new ones, in any browser; the tokens then carry both', async () => {
      const user = await registerUser(server.url);
      const host = await registerHost(server.url);
      const first = await connect(new Browser(server.url), host, user, { scope: 'notes:read' });
      expect(listedScopes(first.consentPage!)).to.deep.equal(['Read your notes notes:read']);
      expect(first.tokens.scope).to.equal('notes:read');

      const more = await connect(new Browser(server.url), host, user, { scope: 'notes:read notes:write' });
      expect(listedScopes(more.consentPage!)).to.deep.equal(['Add and delete your notes notes:write']);
      expect(more.tokens.scope).to.equal('notes:read notes:write');

      const after = await connect(new Browser(server.url), host, user);
      expect(after.consentPage, 'nothing left to ask').to.equal(undefined);
    });
  });

  describe('CSRF and origin checks', () => {
    it('refuses Allow and Deny without the token, with a wrong one, or with another interaction\'s, with a 403 page', async () => {
      const { browser, html, uid, host, state } = await onConsentPage();
      // A browser holds one interaction at a time: the other one is someone else's, with its own valid token.
      const other = await onConsentPage();
      expect(other.uid).to.not.equal(uid);
      const attempts: Record<string, string>[] = [{}, { csrf: '' }, { csrf: `${csrfOf(html).slice(0, -2)}xx` }, { csrf: csrfOf(other.html) }];
      for (const action of ['consent', 'deny']) {
        for (const fields of attempts) {
          const { res, url } = await postForm(browser, `/interaction/${uid}/${action}`, fields);
          expect(url.pathname, JSON.stringify(fields)).to.equal(`/interaction/${uid}/${action}`);
          const page = await expectHtmlPage(res, 403);
          expect(page).to.match(/expired/i);
        }
      }
      // Nothing happened: the page's own Allow still works.
      const allowed = await browser.submit(html, '/consent', {});
      expect(hostRedirect(allowed, host, state).get('code')).to.be.a('string');
    });

    it('refuses a cross-site post even with a valid token, and grants nothing', async () => {
      const { browser, html, host } = await onConsentPage();
      for (const action of ['/consent', '/deny']) {
        const { res } = await browser.submit(html, action, {}, { 'sec-fetch-site': 'cross-site' });
        await expectHtmlPage(res, 403);
      }
      const again = await interactionPage(await authorize(browser, host));
      expect(again.html, 'still asked').to.include('/consent"');
    });

    it('refuses a post from a browser that is not in the interaction with a 400 "expired" page', async () => {
      const { html, uid } = await onConsentPage();
      const stranger = new Browser(server.url);
      const { res } = await postForm(stranger, `/interaction/${uid}/consent`, { csrf: csrfOf(html) });
      expect(await expectHtmlPage(res, 400)).to.match(/expired/i);
    });

    it('refuses Allow while the interaction still waits for a login', async () => {
      const host = await registerHost(server.url);
      const browser = new Browser(server.url);
      const login = await interactionPage(await authorize(browser, host));
      const { res } = await postForm(browser, `/interaction/${login.uid}/consent`, { csrf: csrfOf(login.html) });
      expect(await expectHtmlPage(res, 400)).to.match(/out of date/);
    });
  });

  it('keeps first-party client1 free of consent, even for the MCP resource', async () => {
    const user = await registerUser(server.url);
    const browser = new Browser(server.url);
    const url = new URL('/oauth/authorize', server.url);
    url.search = new URLSearchParams({
      client_id: 'client1', redirect_uri: `${server.url}/callback`, response_type: 'code', state: 's', resource: `${server.url}/mcp`,
    }).toString();
    const started = await browser.follow(url.href);
    const { html } = await interactionPage(started);
    const done = await browser.submit(html, '/login', { username: user.username, password: user.password });
    expect(done.url.pathname).to.equal('/callback');
    expect(done.url.searchParams.get('code')).to.be.a('string');
  });
});
