import { expect } from 'chai';
import { Redis } from 'ioredis';
import { TTL } from '../config/provider.js';
import { accountDocument, cliTokens, refreshCli, signInOnAccount } from './helpers/account.js';
import { expectHtmlErrorPage, expectHtmlPage, expectOAuthError } from './helpers/assertions.js';
import { Browser, decodeEntities } from './helpers/browser.js';
import { csrfOf, postForm } from './helpers/forms.js';
import { freePort, requireRedis, uniquePrefix } from './helpers/redis.js';
import { callTool, mcpPost, mcpToken, toolCall } from './helpers/mcp.js';
import { authorizeCode, loggedInBrowser, registerUser } from './helpers/seed.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';
import {
  authorize, connect, interactionPage, introspect, refresh, registerHost, RESOURCE_SERVER_ENV, servedDocuments, signInThere,
  type Host,
} from './helpers/third-party.js';

/**
 * /account, the "Connected apps" page (issue 4): signing in there, the list of a user's consents, and revoking
 * one, which ends the host's tokens at once and makes its next authorization ask again.
 */

/** The connected apps of a page: the name and the scope words of each. */
const appsOf = (html: string) => [...html.matchAll(/<li>\s*<h2>([\s\S]*?)<\/h2>([\s\S]*?)<\/form>\s*<\/li>/g)].map((m) => ({
  name: decodeEntities(m[1]!),
  scopes: [...m[2]!.matchAll(/<li>([^<]*) <code>/g)].map((s) => decodeEntities(s[1]!)),
}));

const revokeAction = (clientId: string) => `/account/apps/${encodeURIComponent(clientId)}/revoke`;

describe('the connected apps page (/account)', () => {
  const server = useTestServer(RESOURCE_SERVER_ENV);

  /**
   * A user who has connected a new host, and their browser on /account: the session of the authorization signs
   * them in there too, and holds the grant (so revoking must end that grant, not only forget the consent).
   */
  async function connectedUser(hostName?: string) {
    const user = await registerUser(server.url);
    const host = await registerHost(server.url, hostName);
    const browser = new Browser(server.url);
    const { tokens } = await connect(browser, host, user);
    const html = await expectHtmlPage(await browser.fetch('/account'), 200);
    return { user, host, tokens, browser, html };
  }

  describe('without a session', () => {
    it('shows a sign-in form: labelled fields, a CSRF token bound to an HttpOnly cookie, never cached, no script', async () => {
      const browser = new Browser(server.url);
      const res = await browser.fetch('/account');
      const html = await expectHtmlPage(res, 200);
      expect(html).to.include('<title>Connected apps: sign in</title>');
      expect(html).to.match(/<form method="post" action="\/account\/sign-in"/);
      expect(html).to.include('<label for="username">').and.include('<label for="password">');
      expect(html).to.match(/<input id="password" name="password" type="password"/);
      expect(csrfOf(html)).to.have.length.greaterThan(40);
      expect(html).to.not.match(/<script|\son[a-z]+\s*=/i);
      expect(res.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('account.csrf='));
      expect(cookie, 'the CSRF cookie').to.be.a('string');
      expect(cookie).to.match(/httponly/i).and.match(/samesite=strict/i).and.match(/path=\/account/i);
    });

    it('signs in with the right password and redirects to the list', async () => {
      const user = await registerUser(server.url);
      const html = await signInOnAccount(new Browser(server.url), user);
      expect(html).to.include('<title>Connected apps</title>');
      expect(html).to.include(`Signed in as <strong>${user.username}</strong>`);
      expect(html).to.include('No apps are connected to your account.');
      expect(html).to.match(/<a href="\/oauth\/logout">Sign out<\/a>/);
    });

    it('answers a wrong password with a 401 page that shows the form again, and signs nobody in', async () => {
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      const page = await (await browser.fetch('/account')).text();
      const { res } = await browser.submit(page, '/account/sign-in', { username: user.username, password: 'not the password' });
      const html = await expectHtmlPage(res, 401);
      expect(html).to.match(/<p class="error" role="alert">The username or password is incorrect\.<\/p>/);
      expect(html).to.include(`value="${user.username}"`);
      const empty = await browser.submit(html, '/account/sign-in', { username: '', password: '' });
      await expectHtmlPage(empty.res, 400);
      expect(await (await browser.fetch('/account')).text()).to.include('action="/account/sign-in"');
    });

    it('refuses a sign-in without the token, with another browser\'s token, or posted cross-site (403)', async () => {
      const user = await registerUser(server.url);
      const credentials = { username: user.username, password: user.password };
      const browser = new Browser(server.url);
      const page = await (await browser.fetch('/account')).text();
      const theirs = await (await new Browser(server.url).fetch('/account')).text();
      expect(csrfOf(theirs)).to.not.equal(csrfOf(page));

      for (const fields of [credentials, { ...credentials, csrf: csrfOf(theirs) }]) {
        await expectHtmlErrorPage((await postForm(browser, '/account/sign-in', fields)).res, 403, 'invalid_request');
      }
      const crossSite = await browser.submit(page, '/account/sign-in', credentials, { 'sec-fetch-site': 'cross-site' });
      await expectHtmlErrorPage(crossSite.res, 403, 'invalid_request');
      const noCookie = await postForm(new Browser(server.url), '/account/sign-in', { ...credentials, csrf: csrfOf(page) });
      await expectHtmlErrorPage(noCookie.res, 403, 'invalid_request');
      expect(await (await browser.fetch('/account')).text(), 'still signed out').to.include('action="/account/sign-in"');
    });
  });

  describe('signed in', () => {
    it('is signed in already after an authorization in the same browser', async () => {
      const { user, host, html } = await connectedUser();
      expect(html).to.include(`Signed in as <strong>${user.username}</strong>`);
      expect(appsOf(html).map((app) => app.name)).to.deep.equal([host.name]);
    });

    it('lists each app with its name, what it may do in words, when, and a Revoke button', async () => {
      const user = await registerUser(server.url);
      const reader = await registerHost(server.url);
      const writer = await registerHost(server.url, '<img src=x onerror=alert(1)>');
      await connect(new Browser(server.url), reader, user, { scope: 'notes:read' });
      await connect(new Browser(server.url), writer, user);
      const html = await signInOnAccount(new Browser(server.url), user);

      expect(appsOf(html)).to.deep.equal([
        { name: writer.name, scopes: ['Read your notes', 'Add and delete your notes'] },
        { name: reader.name, scopes: ['Read your notes'] },
      ]);
      expect(html).to.not.include('<img');
      expect(html).to.match(/allowed <time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/);
      for (const host of [reader, writer]) {
        expect(html).to.include(`<code>${host.clientId}</code>`);
        expect(html).to.include(`action="${revokeAction(host.clientId)}"`);
      }
      expect(html.match(/<button type="submit" class="outline" aria-label="Revoke access for [^"]+">Revoke access<\/button>/g)).to.have.length(2);
    });

    it('shows the scopes added later (step-up) under the same app', async () => {
      const user = await registerUser(server.url);
      const host = await registerHost(server.url);
      await connect(new Browser(server.url), host, user, { scope: 'notes:read' });
      await connect(new Browser(server.url), host, user, { scope: 'notes:read notes:write' });
      const html = await signInOnAccount(new Browser(server.url), user);
      expect(appsOf(html)).to.deep.equal([{ name: host.name, scopes: ['Read your notes', 'Add and delete your notes'] }]);
    });

    it('never shows one user another user\'s apps', async () => {
      const alice = await connectedUser();
      const bob = await connectedUser();
      expect(appsOf(alice.html).map((app) => app.name)).to.deep.equal([alice.host.name]);
      expect(appsOf(bob.html).map((app) => app.name)).to.deep.equal([bob.host.name]);
    });
  });

  describe('Revoke', () => {
    it('ends the host\'s tokens at once, removes the app, and its next authorization asks for consent again', async () => {
      const { user, host, tokens, browser, html } = await connectedUser();
      expect((await introspect(server.url, tokens.access_token)).active).to.equal(true);

      const revoked = await browser.submit(html, revokeAction(host.clientId), {});
      expect(revoked.url.pathname).to.equal('/account');
      const after = await expectHtmlPage(revoked.res, 200);
      expect(appsOf(after)).to.deep.equal([]);

      expect(await introspect(server.url, tokens.access_token)).to.deep.equal({ active: false });
      const refreshed = await refresh(server.url, host, tokens.refresh_token);
      expect(refreshed.status).to.equal(400);
      expect((await refreshed.json()).error).to.equal('invalid_grant');
      // Not only refused (the grant is gone) but removed from storage.
      const { provider } = server.server.running.app;
      expect(await provider.AccessToken.find(tokens.access_token), 'the access token record').to.equal(undefined);
      expect(await provider.RefreshToken.find(tokens.refresh_token), 'the refresh token record').to.equal(undefined);
      // Forgotten: there is nothing left to revoke.
      const twice = await postForm(browser, revokeAction(host.clientId), { csrf: csrfOf(html) });
      await expectHtmlErrorPage(twice.res, 404, 'not_found');

      // In a new browser, and in this one, whose session still names the revoked grant.
      const fresh = new Browser(server.url);
      const asked = await signInThere(fresh, await authorize(fresh, host), user);
      expect((await interactionPage(asked)).html, 'asked again in a new browser').to.include('/consent"');
      const again = await connect(browser, host, user);
      expect(again.consentPage, 'asked again in the same browser').to.be.a('string');
    });

    it('answers an unknown client id with a 404 page, never a 500', async () => {
      const { browser, html } = await connectedUser();
      const paths = ['no-such-client', 'https://example.com/client.json', '../../oauth/token'].map(revokeAction);
      // Sent as they are: percent signs that decode to nothing valid.
      paths.push('/account/apps/%/revoke', '/account/apps/%E0%A4%A/revoke');
      for (const path of paths) {
        const { res } = await postForm(browser, path, { csrf: csrfOf(html) });
        await expectHtmlErrorPage(res, 404, 'not_found');
      }
    });

    it('cannot revoke another user\'s app: 404, and their tokens keep working', async () => {
      const alice = await connectedUser();
      const bob = await connectedUser();
      const { res } = await postForm(bob.browser, revokeAction(alice.host.clientId), { csrf: csrfOf(bob.html) });
      await expectHtmlErrorPage(res, 404, 'not_found');
      expect((await introspect(server.url, alice.tokens.access_token)).active).to.equal(true);
      expect(appsOf(await (await alice.browser.fetch('/account')).text())).to.have.length(1);
    });

    it('refuses a revoke without the token, with the sign-in form\'s token, or cross-site (403); signed out, 401', async () => {
      const { host, tokens, browser, html } = await connectedUser();
      const signInPage = await (await new Browser(server.url).fetch('/account')).text();
      const attempts: Record<string, string>[] = [{}, { csrf: csrfOf(signInPage) }];
      for (const fields of attempts) {
        await expectHtmlErrorPage((await postForm(browser, revokeAction(host.clientId), fields)).res, 403, 'invalid_request');
      }
      const crossSite = await browser.submit(html, revokeAction(host.clientId), {}, { 'sec-fetch-site': 'cross-site' });
      await expectHtmlErrorPage(crossSite.res, 403, 'invalid_request');
      const signedOut = await postForm(new Browser(server.url), revokeAction(host.clientId), { csrf: csrfOf(html) });
      await expectHtmlErrorPage(signedOut.res, 401, 'login_required');
      expect((await introspect(server.url, tokens.access_token)).active, 'nothing was revoked').to.equal(true);
    });

    it('does not accept a token shown to an earlier sign-in of the same browser', async () => {
      const { user, host, browser, html } = await connectedUser();
      const logout = await browser.follow('/oauth/logout');
      await browser.submit(await logout.res.text(), '/oauth/logout/confirm', { logout: 'yes' });
      await signInOnAccount(browser, user);
      const { res } = await postForm(browser, revokeAction(host.clientId), { csrf: csrfOf(html) });
      await expectHtmlErrorPage(res, 403, 'invalid_request');
    });
  });

  describe('first-party apps', () => {
    const byName = (apps: ReturnType<typeof appsOf>) => [...apps].sort((a, b) => a.name.localeCompare(b.name));
    const MCP_WORDS = ['Read your notes', 'Add and delete your notes'];

    it('lists client1 and the command line as part of the server, with what each may do, since when, and their last use', async () => {
      const { browser } = await mcpToken(server.url);
      await cliTokens(browser);
      const html = await expectHtmlPage(await browser.fetch('/account'), 200);
      expect(byName(appsOf(html))).to.deep.equal([
        { name: 'client1', scopes: MCP_WORDS },
        { name: 'mcp-oauth command line', scopes: MCP_WORDS },
      ]);
      expect(html.match(/Part of this server: it never asks for consent/g)).to.have.length(2);
      expect(html.match(/App id <code>(client1|mcp-cli)<\/code>, signed in <time datetime="[^"]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/g)).to.have.length(2);
      expect(html.match(/Last used <time datetime="[^"]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/g)).to.have.length(2);
      for (const clientId of ['client1', 'mcp-cli']) expect(html).to.include(`action="${revokeAction(clientId)}"`);
    });

    it('last used is when the app last got a token: a refresh moves it on', async () => {
      const { browser } = await loggedInBrowser(server.url);
      const cli = await cliTokens(browser);
      const before = (await accountDocument(browser)).apps.find((app) => app.client_id === 'mcp-cli')!;
      expect(before).to.include({ name: 'mcp-oauth command line', first_party: true });
      expect(Date.parse(before.last_used_at!)).to.be.at.least(Date.parse(before.granted_at));

      await new Promise((resolve) => setTimeout(resolve, 1100));
      const refreshedAt = Math.floor(Date.now() / 1000) * 1000;
      expect((await refreshCli(server.url, cli.refresh_token)).status).to.equal(200);
      const after = (await accountDocument(browser)).apps.find((app) => app.client_id === 'mcp-cli')!;
      expect(Date.parse(after.last_used_at!)).to.be.at.least(refreshedAt).and.above(Date.parse(before.last_used_at!));
      expect(after.granted_at, 'still the same sign-in').to.equal(before.granted_at);
    });

    it('an app whose code was never exchanged holds no token: no last use', async () => {
      const { browser } = await loggedInBrowser(server.url);
      await authorizeCode(browser);
      const html = await expectHtmlPage(await browser.fetch('/account'), 200);
      expect(appsOf(html).map((app) => app.name)).to.deep.equal(['client1']);
      expect(html).to.include('Holds no token now').and.not.include('Last used');
      expect((await accountDocument(browser)).apps[0]).to.include({ client_id: 'client1', last_used_at: null });
    });

    it('Revoke ends a first-party app at once: its token is refused at /mcp and its refresh token too; the other app goes on', async () => {
      const { browser, token } = await mcpToken(server.url);
      const cli = await cliTokens(browser);
      expect((await callTool(server.url, cli.access_token, 'whoami')).isError, 'the token works').to.equal(undefined);
      const html = await expectHtmlPage(await browser.fetch('/account'), 200);

      const revoked = await browser.submit(html, revokeAction('mcp-cli'), {});
      expect(revoked.url.pathname).to.equal('/account');
      expect(appsOf(await expectHtmlPage(revoked.res, 200)).map((app) => app.name)).to.deep.equal(['client1']);
      await expectOAuthError(await mcpPost(server.url, cli.access_token, toolCall('whoami')), 401, 'invalid_token');
      const refused = await refreshCli(server.url, cli.refresh_token);
      expect(refused.status).to.equal(400);
      expect((await refused.json()).error).to.equal('invalid_grant');
      const { provider } = server.server.running.app;
      expect(await provider.AccessToken.find(cli.access_token), 'the access token record').to.equal(undefined);
      expect((await callTool(server.url, token, 'whoami')).isError, "client1's token").to.equal(undefined);

      // First-party: signing in with it again connects it again, without a consent page.
      const again = await cliTokens(browser);
      expect((await callTool(server.url, again.access_token, 'whoami')).isError).to.equal(undefined);
      expect(byName(appsOf(await (await browser.fetch('/account')).text())).map((app) => app.name)).to.deep.equal(['client1', 'mcp-oauth command line']);
    });
  });

  it('the signed-out page links to /account', async () => {
    const { browser } = await connectedUser();
    const logout = await browser.follow('/oauth/logout');
    const done = await browser.submit(await logout.res.text(), '/oauth/logout/confirm', { logout: 'yes' });
    expect(await done.res.text()).to.include('<a href="/account">Connected apps</a>');
    const host = await registerHost(server.url);
    const login = await interactionPage(await authorize(browser, host));
    expect(login.html, 'signed out: the login page').to.include('/login"');
  });
});

describe('consent and revocation on Redis, across a restart', () => {
  const redis = requireRedis();
  let server: TestServer | undefined;
  after(async () => server?.close());

  it('a restarted server still knows the consent; revoking there ends the tokens', async () => {
    // Same port, so the same issuer, as a restarted deployment would have.
    const env = { PORT: String(await freePort()), REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix(), ...RESOURCE_SERVER_ENV };
    server = await startTestServer(env);
    const user = await registerUser(server.url);
    const host = await registerHost(server.url);
    const first = await connect(new Browser(server.url), host, user);
    expect(first.consentPage, 'asked the first time').to.be.a('string');

    await server.close();
    server = await startTestServer(env);
    const browser = new Browser(server.url);
    const again = await connect(browser, host, user);
    expect(again.consentPage, 'remembered').to.equal(undefined);

    const html = await expectHtmlPage(await browser.fetch('/account'), 200);
    expect(appsOf(html).map((app) => app.name)).to.deep.equal([host.name]);
    await browser.submit(html, revokeAction(host.clientId), {});
    for (const { access_token: token } of [first.tokens, again.tokens]) {
      expect(await introspect(server.url, token)).to.deep.equal({ active: false });
    }
    expect((await refresh(server.url, host, again.tokens.refresh_token)).status).to.equal(400);
  });
});

describe('the connected-apps page with apps described by metadata documents (Redis)', () => {
  const redis = requireRedis();
  let server: TestServer | undefined;
  after(async () => server?.close());

  it('names each app as it was allowed and fetches nothing: hosts that hang do not hold the page up', async () => {
    const documents = new Map<string, unknown>();
    const hosts = Array.from({ length: 6 }, (_, i): Host => {
      const clientId = `https://apps.example.org/${uniquePrefix()}/${i}/client.json`;
      documents.set(clientId, {
        client_id: clientId, client_name: `Described app ${i}`, redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none',
      });
      return { clientId, name: `Described app ${i}`, redirectUri: `http://127.0.0.1:${45000 + i}/cb` };
    });
    const prefix = uniquePrefix();
    // Same port, so the same issuer and browser session after the restart.
    const env = { PORT: String(await freePort()), REDIS_URL: redis.url, REDIS_PREFIX: prefix, ...RESOURCE_SERVER_ENV };
    server = await startTestServer(env, { outboundFetch: servedDocuments(documents) });
    const user = await registerUser(server.url);
    const browser = new Browser(server.url);
    for (const host of hosts) await connect(browser, host, user);

    // Each consent ends with its grant, 14 days from the Allow.
    const client = new Redis(redis.url);
    try {
      const [key, ...more] = await client.keys(`${prefix}consents:*`);
      expect(more).to.deep.equal([]);
      expect(await client.hlen(key!)).to.equal(hosts.length);
      expect(await client.pttl(key!)).to.be.within((TTL.Grant - 60) * 1000, TTL.Grant * 1000);
    } finally {
      client.disconnect();
    }

    // A restarted server has none of the documents cached, and every host now hangs until the fetch gives up.
    await server.close();
    let fetches = 0;
    const hanging: typeof fetch = (_input, init) => {
      fetches++;
      return new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    };
    server = await startTestServer(env, { outboundFetch: hanging });
    const started = Date.now();
    const html = await expectHtmlPage(await browser.fetch('/account'), 200);
    expect(Date.now() - started, 'milliseconds to answer').to.be.below(1000);
    expect(fetches).to.equal(0);
    expect(appsOf(html).map((app) => app.name).sort()).to.deep.equal(hosts.map((host) => host.name).sort());
    expect(html.match(/Described at <strong>apps\.example\.org<\/strong>/g)).to.have.length(hosts.length);
  });
});
