import { expect } from 'chai';
import { expectHtmlPage, expectOAuthError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { csrfOf, postForm } from './helpers/forms.js';
import { requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeUrl, json, raw, uniqueName } from './helpers/seed.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';

/**
 * SIGNUP=closed: nobody creates an account of their own; the JSON endpoint answers 403 signup_closed, the sign-up
 * pages say so without a form, and the pages that linked to them no longer do. Nothing is stored or counted.
 */

const credentials = () => ({ username: uniqueName('closed'), password: 'password123' });

/** The login page /oauth/authorize lands on, and its interaction's uid. */
async function loginPage(browser: Browser) {
  const { res, url } = await browser.follow(authorizeUrl(browser.origin));
  expect(url.pathname, `the login page, not ${url.href}`).to.match(/^\/interaction\/[^/]+$/);
  const html = await res.text();
  return { html, uid: decodeURIComponent(url.pathname.split('/')[2]!) };
}

/** The closed sign-up page: 403, says so, offers no form, links to signing in. */
async function expectSignupClosedPage(res: Response, signInHref: string) {
  const html = await expectHtmlPage(res, 403);
  expect(html).to.include('<h1>Sign-up is closed</h1>');
  expect(html).to.include('its operator creates them');
  expect(html).to.not.match(/<form/);
  expect(html).to.include(`<a href="${signInHref}">Sign in</a>`);
}

/** Signs in on the login page: the answer says whether the account exists. */
async function signInOnLoginPage(browser: Browser, user: { username: string; password: string }) {
  const { html } = await loginPage(browser);
  return browser.submit(html, '/login', user);
}

describe('SIGNUP', () => {
  describe('closed', () => {
    const server = useTestServer({ SIGNUP: 'closed' });

    it('POST /oauth/register → 403 signup_closed, whatever the body; the account does not exist afterwards', async () => {
      const user = credentials();
      const body = await expectOAuthError(await fetch(`${server.url}/oauth/register`, json(user)), 403, 'signup_closed');
      expect(body.error_description).to.match(/operator creates accounts/);
      for (const init of [json({}), json({ username: 'x' }), raw('not json', 'application/json'), raw('a=b', 'text/plain')]) {
        await expectOAuthError(await fetch(`${server.url}/oauth/register`, init), 403, 'signup_closed');
      }
      const login = await fetch(`${server.url}/oauth/login`, json(user));
      expect(login.status).to.equal(401);
    });

    it('the login page offers no link to create an account', async () => {
      const { html, uid } = await loginPage(new Browser(server.url));
      expect(html).to.include('action="/interaction/');
      expect(html).to.not.include(`/interaction/${uid}/register`);
      expect(html).to.not.match(/Create one|No account yet/);
    });

    it('the registration page of a sign-in says sign-up is closed, with no form, and a way back to signing in', async () => {
      const browser = new Browser(server.url);
      const { uid } = await loginPage(browser);
      await expectSignupClosedPage(await browser.fetch(`/interaction/${uid}/register`), `/interaction/${uid}`);
    });

    it('posting the registration form of a sign-in anyway creates nothing: the same page, and the name cannot sign in', async () => {
      const browser = new Browser(server.url);
      const { html, uid } = await loginPage(browser);
      const user = credentials();
      const { res } = await postForm(browser, `/interaction/${uid}/register`, { csrf: csrfOf(html), ...user, confirm: user.password });
      await expectSignupClosedPage(res, `/interaction/${uid}`);
      const { res: signIn } = await signInOnLoginPage(new Browser(server.url), user);
      expect(signIn.status).to.equal(401);
    });

    it('/signup says sign-up is closed, and posting to it creates nothing', async () => {
      await expectSignupClosedPage(await fetch(`${server.url}/signup`), '/account');
      const user = credentials();
      const { res } = await postForm(new Browser(server.url), '/signup', { ...user, confirm: user.password });
      await expectSignupClosedPage(res, '/account');
      expect((await fetch(`${server.url}/oauth/login`, json(user))).status).to.equal(401);
    });
  });

  describe('open (the default)', () => {
    const server = useTestServer();

    it('the login page links to the registration page, which has its form', async () => {
      const browser = new Browser(server.url);
      const { html, uid } = await loginPage(browser);
      expect(html).to.include(`<a href="/interaction/${uid}/register">Create one</a>`);
      const page = await expectHtmlPage(await browser.fetch(`/interaction/${uid}/register`), 200);
      expect(page).to.include(`action="/interaction/${uid}/register"`);
    });
  });

  describe('closed, on Redis: refused sign-ups are neither stored nor counted', () => {
    const redis = requireRedis();
    const open: TestServer[] = [];
    after(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    const start = async (env: Record<string, string>) => {
      const server = await startTestServer(env);
      open.push(server);
      return server;
    };

    it('after three refused sign-ups from one address with a limit of one, opening sign-up lets that name register at once', async () => {
      const prefix = uniquePrefix();
      const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, LIMIT_REGISTRATIONS_PER_IP: '1' };
      const user = credentials();

      const closed = await start({ ...env, SIGNUP: 'closed' });
      await expectOAuthError(await fetch(`${closed.url}/oauth/register`, json(user)), 403, 'signup_closed');
      await expectOAuthError(await fetch(`${closed.url}/oauth/register`, json(user)), 403, 'signup_closed');
      const browser = new Browser(closed.url);
      const { html, uid } = await loginPage(browser);
      const { res } = await postForm(browser, `/interaction/${uid}/register`, { csrf: csrfOf(html), ...user, confirm: user.password });
      expect(res.status).to.equal(403);
      const { res: standalone } = await postForm(new Browser(closed.url), '/signup', { ...user, confirm: user.password });
      expect(standalone.status).to.equal(403);

      // Not stored: the name is free (201, not 409). Not counted: the one registration the limit allows is still there.
      const reopened = await start({ ...env, SIGNUP: 'open' });
      const registered = await fetch(`${reopened.url}/oauth/register`, json(user));
      expect(registered.status, await registered.clone().text()).to.equal(201);
      await expectOAuthError(await fetch(`${reopened.url}/oauth/register`, json(credentials())), 429, 'too_many_requests');

      // And an account made while sign-up was open signs in once it is closed.
      const closedAgain = await start({ ...env, SIGNUP: 'closed' });
      expect((await fetch(`${closedAgain.url}/oauth/login`, json(user))).status).to.equal(200);
      const { url } = await signInOnLoginPage(new Browser(closedAgain.url), user);
      expect(url.pathname).to.equal('/callback');
    });
  });
});
