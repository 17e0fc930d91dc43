import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Stores } from '../adapters/stores.js';
import {
  accountDocument, accountJson, capturedStores, cliTokens, otherSession, postAccountJson, signedOutOfAccount, signInOnAccount, type User,
} from './helpers/account.js';
import { expectHtmlErrorPage, expectHtmlPage, expectOAuthError } from './helpers/assertions.js';
import { Browser, decodeEntities } from './helpers/browser.js';
import { csrfOf, postForm } from './helpers/forms.js';
import { callTool, mcpPost, toolCall } from './helpers/mcp.js';
import { keysUnder, requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeCode, exchangeCode, json, registerUser, type Tokens } from './helpers/seed.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';
import { connect, introspect, refresh, registerHost, RESOURCE_SERVER_ENV } from './helpers/third-party.js';

/*
 * What a user does to their own account on /account (issue 14): change the password, sign out everywhere, delete the
 * account; from the page and as JSON, checked over HTTP and in the store.
 */

const NEW_PASSWORD = 'a brand new password';
const CHANGED = 'Your password is changed. Your other sessions are signed out; this one stays signed in.';

const login = (origin: string, user: User) => fetch(`${origin}/oauth/login`, json({ username: user.username, password: user.password }));

/** The alert beside a refused form. */
const alertOf = (html: string) => decodeEntities(/<p class="error" role="alert">([^<]*)<\/p>/.exec(html)?.[1] ?? '');

const sessionsOf = async (stores: Stores, accountId: string) =>
  (await stores.oidc.ofAccount(accountId)).filter((record) => record.model === 'Session');

/** Tokens of client1 for /mcp, authorized in a signed-in browser. */
async function client1McpToken(browser: Browser): Promise<string> {
  const { code } = await authorizeCode(browser, { resource: `${browser.origin}/mcp` });
  const res = await exchangeCode(browser.origin, code);
  expect(res.status).to.equal(200);
  return ((await res.json()) as Tokens).access_token;
}

/**
 * A user signed in on /account in one browser (`here`) and by the JSON login in another (`elsewhere`), which holds
 * client1's sign-in tokens (tied to that session) and has connected an MCP host.
 */
async function userEverywhere(origin: string) {
  const user = await registerUser(origin);
  const here = new Browser(origin);
  await signInOnAccount(here, user);
  const elsewhere = await otherSession(origin, user);
  const { code } = await authorizeCode(elsewhere);
  const signInTokens = await (await exchangeCode(origin, code)).json() as Tokens;
  const host = await registerHost(origin);
  const { tokens: hostTokens } = await connect(elsewhere, host, user);
  const html = await expectHtmlPage(await here.fetch('/account'), 200);
  return { user, here, html, elsewhere, signInTokens, host, hostTokens };
}

describe('the account page: password, signing out everywhere, deletion', () => {
  const captured = capturedStores();
  const server = useTestServer(RESOURCE_SERVER_ENV, captured.options);

  describe('Change password', () => {
    it('ends the other sessions and keeps this one; the new password signs in, the old one no more; apps keep their access', async () => {
      const { user, here, html, elsewhere, signInTokens, host, hostTokens } = await userEverywhere(server.url);
      expect(await sessionsOf(captured.stores, user.userId)).to.have.length(2);

      const changed = await here.submit(html, '/account/password', {
        current_password: user.password, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD,
      });
      expect(changed.url.pathname + changed.url.search).to.equal('/account?done=password');
      const page = await expectHtmlPage(changed.res, 200);
      expect(page).to.include(`<p class="notice" role="status">${CHANGED}</p>`);

      expect(await signedOutOfAccount(here), 'this browser').to.equal(false);
      expect(await signedOutOfAccount(elsewhere), 'the other browser').to.equal(true);
      expect(await sessionsOf(captured.stores, user.userId)).to.have.length(1);
      expect(await introspect(server.url, signInTokens.access_token), "the other session's sign-in tokens").to.deep.equal({ active: false });
      expect((await refresh(server.url, host, hostTokens.refresh_token)).status, "the app's access goes on").to.equal(200);
      await expectOAuthError(await login(server.url, user), 401, 'invalid_credentials');
      expect((await login(server.url, { ...user, password: NEW_PASSWORD })).status).to.equal(200);
    });

    it('refuses a wrong current password, and new passwords that differ or break the rule, beside the form; nothing changes', async () => {
      const user = await registerUser(server.url);
      const here = new Browser(server.url);
      const html = await signInOnAccount(here, user);
      const elsewhere = await otherSession(server.url, user);
      const fine = { current_password: user.password, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD };
      const cases: [Record<string, string>, number, string][] = [
        [{ ...fine, current_password: 'not the password' }, 403, 'The current password is incorrect.'],
        [{ ...fine, confirm_password: `${NEW_PASSWORD}!` }, 400, 'The two new passwords do not match.'],
        [{ ...fine, new_password: 'short', confirm_password: 'short' }, 400, 'The new password must be 8 to 1024 bytes.'],
        [{ ...fine, current_password: '' }, 400, 'The current password is required.'],
        [{ current_password: user.password, new_password: NEW_PASSWORD }, 400, 'The repeated new password is required.'],
      ];
      for (const [fields, status, alert] of cases) {
        const { res } = await here.submit(html, '/account/password', fields);
        const page = await expectHtmlPage(res, status);
        expect(alertOf(page), JSON.stringify(fields)).to.equal(alert);
        expect(page).to.include('action="/account/password"').and.include('Signed in as');
      }
      expect((await login(server.url, user)).status, 'the password is unchanged').to.equal(200);
      expect(await signedOutOfAccount(elsewhere), 'the other session goes on').to.equal(false);
    });

    it("refuses a change without the token, with the sign-in form's or another user's token, or cross-site (403); signed out, 401", async () => {
      const user = await registerUser(server.url);
      const here = new Browser(server.url);
      const html = await signInOnAccount(here, user);
      const theirs = await signInOnAccount(new Browser(server.url), await registerUser(server.url));
      const signInPage = await (await new Browser(server.url).fetch('/account')).text();
      const fields = { current_password: user.password, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD };
      for (const csrf of [undefined, csrfOf(signInPage), csrfOf(theirs)]) {
        const { res } = await postForm(here, '/account/password', { ...fields, ...(csrf ? { csrf } : {}) });
        await expectHtmlErrorPage(res, 403, 'invalid_request');
      }
      const crossSite = await here.submit(html, '/account/password', fields, { 'sec-fetch-site': 'cross-site' });
      await expectHtmlErrorPage(crossSite.res, 403, 'invalid_request');
      const signedOut = await postForm(new Browser(server.url), '/account/password', { ...fields, csrf: csrfOf(html) });
      await expectHtmlErrorPage(signedOut.res, 401, 'login_required');
      expect((await login(server.url, user)).status, 'the password is unchanged').to.equal(200);
    });
  });

  describe('Sign out everywhere', () => {
    it("ends every session of the user, this one too, and the sign-in tokens tied to them; apps' access and other users go on", async () => {
      const { user, here, html, elsewhere, signInTokens, host, hostTokens } = await userEverywhere(server.url);
      const other = new Browser(server.url);
      await signInOnAccount(other, await registerUser(server.url));

      const done = await here.submit(html, '/account/sign-out-everywhere', {});
      const page = await expectHtmlPage(done.res, 200);
      expect(page).to.include('<h1>Signed out everywhere</h1>').and.include('keep their access');
      expect(await signedOutOfAccount(here)).to.equal(true);
      expect(await signedOutOfAccount(elsewhere)).to.equal(true);
      expect(await sessionsOf(captured.stores, user.userId)).to.deep.equal([]);
      expect(await introspect(server.url, signInTokens.access_token)).to.deep.equal({ active: false });
      expect((await refresh(server.url, host, hostTokens.refresh_token)).status, "the app's access goes on").to.equal(200);
      expect(await signedOutOfAccount(other), "another user's session").to.equal(false);
      // Signed in again, the app is still listed, to be revoked there.
      expect(await signInOnAccount(here, user)).to.include(`<h2>${host.name}</h2>`);
    });

    it('refuses without the token (403), cross-site (403) or signed out (401), and ends nothing', async () => {
      const user = await registerUser(server.url);
      const here = new Browser(server.url);
      const html = await signInOnAccount(here, user);
      await expectHtmlErrorPage((await postForm(here, '/account/sign-out-everywhere', {})).res, 403, 'invalid_request');
      const crossSite = await here.submit(html, '/account/sign-out-everywhere', {}, { 'sec-fetch-site': 'cross-site' });
      await expectHtmlErrorPage(crossSite.res, 403, 'invalid_request');
      const signedOut = await postForm(new Browser(server.url), '/account/sign-out-everywhere', { csrf: csrfOf(html) });
      await expectHtmlErrorPage(signedOut.res, 401, 'login_required');
      expect(await signedOutOfAccount(here)).to.equal(false);
    });
  });

  describe('Delete account', () => {
    it('asks for the password and the username typed; refused beside the form, and nothing is deleted', async () => {
      const user = await registerUser(server.url);
      const here = new Browser(server.url);
      const html = await signInOnAccount(here, user);
      const cases: [Record<string, string>, number, string][] = [
        [{ password: 'not the password', confirm_username: user.username }, 403, 'The password is incorrect.'],
        [{ password: user.password, confirm_username: `${user.username}x` }, 400, 'Type your username to confirm.'],
        [{ password: user.password, confirm_username: '' }, 400, 'Type your username to confirm.'],
        [{ password: user.password }, 400, 'Type your username to confirm.'],
        [{ confirm_username: user.username }, 400, 'The password is required.'],
      ];
      for (const [fields, status, alert] of cases) {
        const { res } = await here.submit(html, '/account/delete', fields);
        expect(alertOf(await expectHtmlPage(res, status)), JSON.stringify(fields)).to.equal(alert);
      }
      expect(await captured.stores.accounts.findById(user.userId)).to.include({ username: user.username });
      expect(await signedOutOfAccount(here)).to.equal(false);
      const signedOut = await postForm(new Browser(server.url), '/account/delete', {
        csrf: csrfOf(html), password: user.password, confirm_username: user.username,
      });
      await expectHtmlErrorPage(signedOut.res, 401, 'login_required');
      const noToken = await postForm(here, '/account/delete', { password: user.password, confirm_username: user.username });
      await expectHtmlErrorPage(noToken.res, 403, 'invalid_request');
      expect((await login(server.url, user)).status).to.equal(200);
    });

    it('removes the account and everything of it: notes, grants, tokens, consents and sessions; ends on a page saying so', async () => {
      const { user, here, html, elsewhere, signInTokens, host, hostTokens } = await userEverywhere(server.url);
      const mcp = await client1McpToken(here);
      const cli = await cliTokens(here);
      expect((await callTool(server.url, mcp, 'notes_add', { text: 'a secret note' })).isError).to.equal(undefined);
      const { stores } = captured;
      expect(await stores.notes.list(user.userId)).to.have.length(1);
      expect(await stores.consents.list(user.userId)).to.have.length(1);
      const before = await stores.oidc.ofAccount(user.userId);
      expect(before.filter((record) => record.model === 'Grant').map((record) => record.payload.clientId).sort())
        .to.deep.equal(['client1', 'client1', host.clientId, 'mcp-cli'].sort());

      // The username in another letter case names the same account.
      const deleted = await here.submit(html, '/account/delete', { password: user.password, confirm_username: user.username.toUpperCase() });
      const page = await expectHtmlPage(deleted.res, 200);
      expect(page).to.include('<h1>Account deleted</h1>').and.include(`The account <strong>${user.username}</strong> is gone`);

      expect(await stores.accounts.findById(user.userId)).to.equal(undefined);
      expect(await stores.accounts.findByUsername(user.username)).to.equal(undefined);
      expect(await stores.notes.list(user.userId)).to.deep.equal([]);
      expect(await stores.consents.list(user.userId)).to.deep.equal([]);
      expect(await stores.oidc.ofAccount(user.userId)).to.deep.equal([]);
      const { provider } = server.server.running.app;
      for (const token of [mcp, cli.access_token, signInTokens.access_token, hostTokens.access_token]) {
        expect(await provider.AccessToken.find(token)).to.equal(undefined);
      }
      for (const token of [cli.refresh_token, hostTokens.refresh_token, signInTokens.refresh_token]) {
        expect(await provider.RefreshToken.find(token)).to.equal(undefined);
      }
      for (const token of [mcp, cli.access_token, hostTokens.access_token]) {
        await expectOAuthError(await mcpPost(server.url, token, toolCall('whoami')), 401, 'invalid_token');
      }
      expect((await refresh(server.url, host, hostTokens.refresh_token)).status).to.equal(400);
      await expectOAuthError(await login(server.url, user), 401, 'invalid_credentials');
      expect(await signedOutOfAccount(here)).to.equal(true);
      expect(await signedOutOfAccount(elsewhere)).to.equal(true);
      expect((await registerUser(server.url, user.username)).userId, 'the username is free again').to.not.equal(user.userId);
    });
  });

  describe('as JSON, for scripts', () => {
    /** A user signed in by the JSON login, with the account's CSRF token. */
    async function scriptUser() {
      const user = await registerUser(server.url);
      const browser = await otherSession(server.url, user);
      const { csrf } = await accountDocument(browser);
      return { user, browser, csrf };
    }

    it('GET /account: 401 signed out; signed in, the username, the apps and the CSRF token, never cached', async () => {
      await expectOAuthError(await accountJson(new Browser(server.url)), 401, 'login_required');
      const { user, here, host } = await userEverywhere(server.url);
      const document = await accountDocument(here);
      expect(document.username).to.equal(user.username);
      expect(document.csrf).to.equal(csrfOf(await (await here.fetch('/account')).text()));
      expect(document.apps.map((app) => app.client_id).sort()).to.deep.equal(['client1', host.clientId].sort());
      const app = document.apps.find((one) => one.client_id === host.clientId)!;
      expect(app).to.include({ name: host.name, first_party: false });
      expect(app.scopes).to.deep.equal([
        { scope: 'notes:read', description: 'Read your notes' }, { scope: 'notes:write', description: 'Add and delete your notes' },
      ]);
      expect(Date.parse(app.granted_at)).to.be.closeTo(Date.now(), 60_000);
      expect(Date.parse(app.last_used_at!)).to.be.closeTo(Date.now(), 60_000);
      const html = await here.fetch('/account', { headers: { accept: 'text/html,application/json;q=0.9' } });
      expect(html.headers.get('content-type')).to.match(/^text\/html/);
      expect(html.headers.get('vary')).to.match(/accept/i);
    });

    it('changes the password: the other sessions end, this one stays', async () => {
      const { user, browser, csrf } = await scriptUser();
      const elsewhere = await otherSession(server.url, user);
      const res = await postAccountJson(browser, '/account/password', {
        csrf, current_password: user.password, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD,
      });
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(await res.json()).to.deep.equal({ password_changed: true, sessions_ended: 1 });
      expect(await signedOutOfAccount(elsewhere)).to.equal(true);
      expect(await signedOutOfAccount(browser)).to.equal(false);
      expect((await login(server.url, { ...user, password: NEW_PASSWORD })).status).to.equal(200);
    });

    it('answers bad requests as {error, error_description}, never a page or a 500, and changes nothing', async () => {
      const { user, browser, csrf } = await scriptUser();
      const change = { csrf, current_password: user.password, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD };
      const deletion = { csrf, password: user.password, confirm_username: user.username };
      const refusals: [string, unknown, number, string, RegExp][] = [
        ['/account/password', { ...change, current_password: 'not the password' }, 403, 'invalid_credentials', /^the current password is incorrect$/],
        ['/account/password', { ...change, confirm_password: 'something else' }, 400, 'invalid_request', /^the two new passwords do not match$/],
        ['/account/password', { ...change, new_password: 12345678 }, 400, 'invalid_request', /^the new password must be a string$/],
        ['/account/password', { ...change, current_password: undefined }, 400, 'invalid_request', /^the current password is required$/],
        ['/account/password', { ...change, csrf: undefined }, 403, 'invalid_request', /csrf/],
        ['/account/password', { ...change, csrf: 'forged' }, 403, 'invalid_request', /csrf/],
        ['/account/password', [change], 400, 'invalid_request', /JSON object/],
        ['/account/delete', { ...deletion, password: 'not the password' }, 403, 'invalid_credentials', /^the password is incorrect$/],
        ['/account/delete', { ...deletion, confirm_username: 'someone' }, 400, 'invalid_request', /^type your username to confirm$/],
        ['/account/apps/no-such-client/revoke', { csrf }, 404, 'not_found', /No app/],
      ];
      for (const [path, body, status, error, description] of refusals) {
        const refused = await expectOAuthError(await postAccountJson(browser, path, body), status, error);
        expect(refused.error_description, `${path} ${JSON.stringify(body)}`).to.match(description);
      }
      const notJson = await browser.fetch('/account/password', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"csrf":' });
      await expectOAuthError(notJson, 400, 'invalid_request');
      const crossSite = await postAccountJson(browser, '/account/password', change, { 'sec-fetch-site': 'cross-site' });
      await expectOAuthError(crossSite, 403, 'invalid_request');
      const signedOut = await expectOAuthError(await postAccountJson(new Browser(server.url), '/account/password', change), 401, 'login_required');
      expect(signedOut.error_description).to.include('/oauth/login');
      expect((await login(server.url, user)).status, 'the password is unchanged').to.equal(200);
      expect(await captured.stores.accounts.findById(user.userId)).to.include({ username: user.username });
    });

    it('revokes an app, signs out everywhere, and deletes the account', async () => {
      const { user, here, elsewhere, host, hostTokens } = await userEverywhere(server.url);
      const mcp = await client1McpToken(here);
      expect((await callTool(server.url, mcp, 'notes_add', { text: 'a note' })).isError).to.equal(undefined);
      const { csrf } = await accountDocument(here);

      const revoked = await postAccountJson(here, `/account/apps/${encodeURIComponent(host.clientId)}/revoke`, { csrf });
      expect(await revoked.json()).to.deep.equal({ client_id: host.clientId, revoked: true });
      expect((await refresh(server.url, host, hostTokens.refresh_token)).status).to.equal(400);

      const everywhere = await postAccountJson(elsewhere, '/account/sign-out-everywhere', { csrf: (await accountDocument(elsewhere)).csrf });
      // Both sessions, and the grant of client1's sign-in tokens, tied to the session that got them.
      expect(await everywhere.json()).to.deep.equal({ sessions_ended: 2, grants_revoked: 1 });
      await expectOAuthError(await accountJson(here), 401, 'login_required');

      const again = await otherSession(server.url, user);
      const deleted = await postAccountJson(again, '/account/delete', {
        csrf: (await accountDocument(again)).csrf, password: user.password, confirm_username: user.username,
      });
      // The grant of client1's token for /mcp is the one left, and the session of this request.
      expect(await deleted.json()).to.deep.equal({ deleted: true, notes_deleted: 1, grants_revoked: 1, sessions_ended: 1 });
      await expectOAuthError(await mcpPost(server.url, mcp, toolCall('whoami')), 401, 'invalid_token');
      await expectOAuthError(await accountJson(again), 401, 'login_required');
    });
  });
});

describe('wrong current passwords count as failed sign-ins', () => {
  const server = useTestServer({ ...RESOURCE_SERVER_ENV, LIMIT_LOGIN_FAILURES_PER_USERNAME: '3' });

  it('past the limit, 429 with Retry-After, the right password too, and at the sign-in endpoint as well', async () => {
    const user = await registerUser(server.url);
    const browser = new Browser(server.url);
    const html = await signInOnAccount(browser, user);
    const { csrf } = await accountDocument(browser);
    const change = (current: string) => ({ csrf, current_password: current, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD });
    for (let i = 0; i < 3; i++) {
      await expectOAuthError(await postAccountJson(browser, '/account/password', change(`wrong ${i}`)), 403, 'invalid_credentials');
    }
    const limited = await postAccountJson(browser, '/account/password', change(user.password));
    await expectOAuthError(limited, 429, 'too_many_requests');
    expect(Number(limited.headers.get('retry-after'))).to.be.above(0);
    const page = await browser.submit(html, '/account/delete', { password: user.password, confirm_username: user.username });
    await expectHtmlErrorPage(page.res, 429, 'too_many_requests');
    await expectOAuthError(await login(server.url, user), 429, 'too_many_requests');
    expect(await signedOutOfAccount(browser), 'nothing was deleted').to.equal(false);
  });
});

describe('the account page on Redis', () => {
  const redis = requireRedis();
  const prefix = uniquePrefix();
  let server: TestServer | undefined;
  let client: Redis | undefined;
  after(async () => {
    await server?.close();
    if (client) {
      await Promise.all((await keysUnder(client, prefix)).map((key) => client!.del(`${prefix}${key}`)));
      client.disconnect();
    }
  });

  it("changing the password ends the other sessions there; deleting the account leaves nothing of it in Redis", async () => {
    server = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, ...RESOURCE_SERVER_ENV });
    client = new Redis(redis.url);
    const { user, here } = await userEverywhere(server.url);
    const mcp = await client1McpToken(here);
    await cliTokens(here);
    expect((await callTool(server.url, mcp, 'notes_add', { text: 'a secret note' })).isError).to.equal(undefined);

    /** The keys named after the user, and the stored records of the user. */
    const mine = async () => {
      const keys = await keysUnder(client!, prefix);
      const payloads = await Promise.all(keys.map(async (key) => {
        if ((await client!.type(`${prefix}${key}`)) !== 'hash') return undefined;
        const payload = await client!.hget(`${prefix}${key}`, 'payload');
        return payload ? JSON.parse(payload) as Record<string, unknown> : undefined;
      }));
      return {
        keys: keys.filter((key) => key.includes(user.userId) || key.includes(`{${user.username.toLowerCase()}}`)),
        kinds: payloads.filter((payload) => payload?.accountId === user.userId).map((payload) => payload!.kind),
      };
    };

    let { csrf } = await accountDocument(here);
    const changed = await postAccountJson(here, '/account/password', {
      csrf, current_password: user.password, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD,
    });
    expect(await changed.json()).to.deep.equal({ password_changed: true, sessions_ended: 1 });
    const before = await mine();
    expect(before.keys.map((key) => key.replace(/:\{.*$/, '')).sort())
      .to.include.members(['account', 'account-id', 'account-records', 'consents', 'notes']);
    expect(before.kinds.filter((kind) => kind === 'Session')).to.have.length(1);
    expect(before.kinds).to.include.members(['Grant', 'AccessToken', 'RefreshToken']);

    ({ csrf } = await accountDocument(here));
    const deleted = await postAccountJson(here, '/account/delete', { csrf, password: NEW_PASSWORD, confirm_username: user.username });
    expect(deleted.status).to.equal(200);
    expect(await mine()).to.deep.equal({ keys: [], kinds: [] });
    await expectOAuthError(await mcpPost(server.url, mcp, toolCall('whoami')), 401, 'invalid_token');
  });
});
