import { expect } from 'chai';
import { expectHtmlErrorPage } from './helpers/assertions.js';
import { Browser, decodeEntities } from './helpers/browser.js';
import { ownRedisServers, requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeCode, form, loggedInBrowser, registerUser, tokensFor, type Tokens } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { StorageFaults, useFaultyServer } from './helpers/storage-faults.js';
import { authorize, exchangeOk, hostRedirect, interactionPage, registerHost, signInThere, type Host } from './helpers/third-party.js';

/*
 * Issue 13: a storage outage never costs a user their grant or their browser session. A page of the provider's whose
 * request fails on storage (the return from a sign-in or consent step, the device code pages, the sign-out
 * confirmation) answers a 503 page with Retry-After, never a redirect to the application, and keeps the browser's
 * cookies and the records they name as they were: reloading the page once storage is back does the step again.
 */

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** Submits a form of `html` (found by its action) once, without following where it leads. */
function submitOnce(browser: Browser, html: string, actionContains: string, fields: Record<string, string> = {}) {
  const found = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].find((m) => m[1]!.includes(actionContains));
  if (!found) throw new Error(`no form with an action containing ${actionContains}`);
  const hidden = Object.fromEntries([...found[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)]
    .map((m) => [m[1]!, decodeEntities(m[2]!)]));
  return browser.fetch(decodeEntities(found[1]!), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ ...hidden, ...fields }).toString(),
  });
}

/** The outage page: our error page at 503, Retry-After 2, no redirect, no cookie set, and what to do in plain words. */
async function expectOutagePage(res: Response): Promise<void> {
  const html = await expectHtmlErrorPage(res, 503, 'temporarily_unavailable');
  expect(res.headers.get('retry-after'), 'Retry-After').to.equal('2');
  expect(html).to.include('The server cannot reach its storage right now. Reload this page in a few seconds.');
}

const cookiesOf = (browser: Browser) => Object.fromEntries(browser.cookies);

for (const backend of ['memory', 'redis'] as const) {
  describe(`a page that failed on storage is safe to reload (${backend})`, function () {
    this.timeout(30000);
    const faulty = useFaultyServer(backend);
    const { faults } = faulty;
    let server: TestServer;
    let url: string;
    before(() => ({ server, url } = faulty));

    const provider = () => server.running.app.provider;
    const userinfo = (token: string) => fetch(`${url}/oauth/userinfo`, { headers: { authorization: `Bearer ${token}` } });

    /** A user signed in at a third-party host's authorization, on its consent page; Allow submitted, not followed. */
    async function allowedConsent() {
      const user = await registerUser(url);
      const host = await registerHost(url);
      const browser = new Browser(url);
      const { state, verifier, ...start } = await authorize(browser, host);
      const { html } = await interactionPage(await signInThere(browser, start, user));
      const allowed = await submitOnce(browser, html, '/consent');
      expect(allowed.status).to.equal(303);
      return { host, browser, state, verifier, resume: allowed.headers.get('location')! };
    }

    /** The browser still holds a working session: the next authorization of `host` asks nothing. */
    async function expectSilentAuthorization(browser: Browser, host: Host) {
      const again = await authorize(browser, host);
      expect(hostRedirect(again, host, again.state).get('code'), 'a code at once').to.be.a('string');
    }

    describe('the return from a sign-in or consent step (GET /oauth/authorize/:uid)', () => {
      for (const point of ['Interaction.find', 'Grant.find', 'AuthorizationCode.upsert', 'Session.upsert', 'Interaction.destroy']) {
        it(`${point} fails after Allow: a 503 page with the browser's cookies kept, and reloading it completes the authorization`, async () => {
          const { host, browser, state, verifier, resume } = await allowedConsent();
          const before = cookiesOf(browser);
          faults.failNext(point, 'refused');
          await expectOutagePage(await browser.fetch(resume));
          expect(cookiesOf(browser), 'the browser\'s cookies').to.deep.equal(before);

          const reloaded = await browser.follow(resume);
          const code = hostRedirect(reloaded, host, state).get('code')!;
          await exchangeOk(url, host, code, verifier);
          await expectSilentAuthorization(browser, host);
        });
      }

      for (const point of ['Session.upsert', 'Interaction.upsert']) {
        it(`${point} fails as the browser comes back from signing in: a 503 page, and the reload goes on to the consent page`, async () => {
          const user = await registerUser(url);
          const host = await registerHost(url);
          const browser = new Browser(url);
          const { state, verifier, ...start } = await authorize(browser, host);
          const { html } = await interactionPage(start);
          const signedIn = await submitOnce(browser, html, '/login', { username: user.username, password: user.password });
          const resume = signedIn.headers.get('location')!;
          const before = cookiesOf(browser);
          faults.failNext(point, 'refused');
          await expectOutagePage(await browser.fetch(resume));
          expect(cookiesOf(browser), 'the browser\'s cookies').to.deep.equal(before);

          const consent = await interactionPage(await browser.follow(resume));
          const back = await browser.submit(consent.html, '/consent', {});
          await exchangeOk(url, host, hostRedirect(back, host, state).get('code')!, verifier);
          await expectSilentAuthorization(browser, host);
        });
      }

      it('removing the replaced session fails once the browser has moved on: the code is delivered, and the old session goes when storage answers', async () => {
        const { host, browser, state, verifier, resume } = await allowedConsent();
        const oldSession = browser.cookies.get('_session')!;
        faults.failNext('Session.destroy', 'refused');
        const back = await browser.follow(resume);
        await exchangeOk(url, host, hostRedirect(back, host, state).get('code')!, verifier);
        expect(browser.cookies.get('_session'), 'the new session').to.not.equal(oldSession);
        let oldGone = false;
        for (let i = 0; i < 50 && !oldGone; i++) {
          oldGone = (await provider().Session.find(oldSession)) === undefined;
          if (!oldGone) await new Promise((r) => setTimeout(r, 100));
        }
        expect(oldGone, 'the old session removed later').to.equal(true);
        await expectSilentAuthorization(browser, host);
      });

      it('a token bound to the browser session still works after a later sign-in step rotated the session', async () => {
        // client1's tokens end with the session: every use finds the session by its uid, which rotation keeps.
        const { browser, user, tokens } = await tokensFor(url);
        const host = await registerHost(url);
        const { state, ...start } = await authorize(browser, host);
        const back = await browser.submit((await interactionPage(start)).html, '/consent', {});
        expect(hostRedirect(back, host, state).get('code')).to.be.a('string');
        const res = await userinfo(tokens.access_token);
        expect(res.status, await res.clone().text()).to.equal(200);
        expect((await res.json()).username).to.equal(user.username);
      });
    });

    describe('the device code pages (/oauth/device)', () => {
      const startDevice = async () => {
        const res = await fetch(`${url}/oauth/device/auth`, form({ client_id: 'mcp-cli', resource: `${url}/mcp` }));
        return await res.json() as { device_code: string; user_code: string };
      };
      const poll = (deviceCode: string) => fetch(`${url}/oauth/token`, form({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: 'mcp-cli' }));

      it('the code page fails to load: a 503 page, and reloading it shows the form', async () => {
        const { browser } = await loggedInBrowser(url);
        faults.failNext('Session.find', 'refused');
        await expectOutagePage(await browser.fetch('/oauth/device'));
        const { res } = await browser.follow('/oauth/device');
        expect(await res.text()).to.include('name="user_code"');
      });

      it('looking the entered code up fails: a 503 page, and the same form submitted again goes on; the device gets its tokens', async () => {
        const device = await startDevice();
        const { browser } = await loggedInBrowser(url);
        const page = await (await browser.follow('/oauth/device')).res.text();
        const before = cookiesOf(browser);
        faults.failNext('DeviceCode.findByUserCode', 'refused');
        await expectOutagePage(await submitOnce(browser, page, '/oauth/device', { user_code: device.user_code }));
        expect(cookiesOf(browser), 'the browser\'s cookies').to.deep.equal(before);

        const entered = await browser.submit(page, '/oauth/device', { user_code: device.user_code });
        const confirmPage = await entered.res.text();
        expect(confirmPage).to.include('op.deviceConfirmForm');
        const done = await browser.submit(confirmPage, '/oauth/device', {});
        expect(await done.res.text()).to.include('Device connected');
        const tokens = await poll(device.device_code);
        expect(tokens.status, await tokens.clone().text()).to.equal(200);
      });

      /** A signed-in browser on the confirmation page of a device's code. */
      async function onConfirmPage() {
        const device = await startDevice();
        const { browser } = await loggedInBrowser(url);
        const page = await (await browser.follow('/oauth/device')).res.text();
        const entered = await browser.submit(page, '/oauth/device', { user_code: device.user_code });
        return { device, browser, html: await entered.res.text() };
      }

      /** The device's polls say the code ended (the person starts again on the device): neither tokens nor a wait. */
      async function expectEnded(deviceCode: string) {
        for (const res of [await poll(deviceCode), await poll(deviceCode)]) {
          const body = await res.json() as { error?: string };
          expect(res.status, JSON.stringify(body)).to.not.equal(200);
          expect(body.error).to.not.equal('authorization_pending');
        }
      }

      it('marking the code in use fails on Continue: a 503 page, the device still waits, and Continue again connects it', async () => {
        const { device, browser, html } = await onConfirmPage();
        faults.failNext('DeviceCode.upsert', 'refused');
        await expectOutagePage(await submitOnce(browser, html, '/oauth/device'));
        expect((await (await poll(device.device_code)).json()).error).to.equal('authorization_pending');
        const done = await browser.submit(html, '/oauth/device', {});
        expect(await done.res.text()).to.include('Device connected');
        expect((await poll(device.device_code)).status).to.equal(200);
      });

      it('the confirmation fails further on: a 503 page, not a redirect; the device learns from its polls that the code ended', async () => {
        const { device, browser, html } = await onConfirmPage();
        faults.failNext('Grant.upsert', 'refused');
        await expectOutagePage(await submitOnce(browser, html, '/oauth/device'));
        await expectEnded(device.device_code);
      });

      it('the return from signing in on the way fails: a 503 page, not a redirect; the device learns that the code ended', async () => {
        const device = await startDevice();
        const user = await registerUser(url);
        const browser = new Browser(url);
        const page = await (await browser.follow('/oauth/device')).res.text();
        const entered = await browser.submit(page, '/oauth/device', { user_code: device.user_code });
        const confirmed = await browser.submit(await entered.res.text(), '/oauth/device', {});
        const signedIn = await submitOnce(browser, await confirmed.res.text(), '/login', { username: user.username, password: user.password });
        const resume = signedIn.headers.get('location')!;
        expect(new URL(resume, url).pathname).to.match(/^\/oauth\/device\/[^/]+$/);
        const before = cookiesOf(browser);
        faults.failNext('Interaction.upsert', 'refused');
        await expectOutagePage(await browser.fetch(resume));
        expect(cookiesOf(browser), 'the browser\'s cookies').to.deep.equal(before);
        await expectEnded(device.device_code);
      });
    });

    describe('the sign-out confirmation (POST /oauth/logout/confirm)', () => {
      /** A browser signed in with client1's session-bound tokens, on the sign-out confirmation page. */
      async function onSignOutPage(query = '') {
        const { browser, tokens } = await tokensFor(url);
        const { res } = await browser.follow(`/oauth/logout${query}`);
        const html = await res.text();
        expect(html).to.include('Yes, sign me out');
        return { browser, tokens, html, session: browser.cookies.get('_session')! };
      }

      const signedInSession = async (id: string) => (await provider().Session.find(id))?.accountId;

      async function expectSignedOutBy(browser: Browser, html: string, tokens: Tokens, session: string) {
        const done = await browser.submit(html, '/oauth/logout/confirm', { logout: 'yes' });
        expect(await done.res.text()).to.include('Signed out');
        expect(browser.cookies.has('_session'), 'the session cookie').to.equal(false);
        expect(await signedInSession(session)).to.equal(undefined);
        expect((await userinfo(tokens.access_token)).status, 'the session\'s tokens').to.equal(401);
      }

      it('revoking the grants fails on "Yes, sign me out": a 503 page, nothing signed out; submitting again signs out', async () => {
        const { browser, tokens, html, session } = await onSignOutPage();
        const before = cookiesOf(browser);
        faults.failNext('AccessToken.revokeByGrantId', 'refused');
        await expectOutagePage(await submitOnce(browser, html, '/oauth/logout/confirm', { logout: 'yes' }));
        expect(cookiesOf(browser), 'the browser\'s cookies').to.deep.equal(before);
        expect(await signedInSession(session), 'the session').to.be.a('string');
        expect((await userinfo(tokens.access_token)).status, 'the session\'s tokens').to.equal(200);
        await expectSignedOutBy(browser, html, tokens, session);
      });

      it('removing the session fails on "Yes, sign me out": a 503 page, the session kept; submitting again signs out', async () => {
        const { browser, tokens, html, session } = await onSignOutPage();
        const before = cookiesOf(browser);
        faults.failNext('Session.destroy', 'refused');
        await expectOutagePage(await submitOnce(browser, html, '/oauth/logout/confirm', { logout: 'yes' }));
        expect(cookiesOf(browser), 'the browser\'s cookies').to.deep.equal(before);
        expect(await signedInSession(session), 'the session').to.be.a('string');
        await expectSignedOutBy(browser, html, tokens, session);
      });

      it('saving the session fails on "No, stay signed in" (an app\'s sign-out): a 503 page, still signed in; submitting again works', async () => {
        const { browser, html, session } = await onSignOutPage('?client_id=client1');
        const before = cookiesOf(browser);
        faults.failNext('Session.upsert', 'refused');
        await expectOutagePage(await submitOnce(browser, html, '/oauth/logout/confirm'));
        expect(cookiesOf(browser), 'the browser\'s cookies').to.deep.equal(before);
        expect(await signedInSession(session), 'the session').to.be.a('string');
        const done = await browser.submit(html, '/oauth/logout/confirm', {});
        expect(await done.res.text()).to.include('Still signed in');
        await authorizeCode(browser);
      });
    });
  });
}

describe('a page that failed on a real Redis outage is safe to reload', function () {
  this.timeout(40000);
  requireRedis();
  const owned = ownRedisServers('these tests');
  let server: TestServer | undefined;
  after(async () => {
    await server?.close();
  });

  it('Redis stops as the browser comes back from Allow: a 503 page; once Redis is back, reloading it completes the authorization', async () => {
    const redis = await owned.launch({ persistent: true });
    const faults = new StorageFaults();
    server = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix() }, { wrapStores: faults.wrap });
    const { url } = server;
    const user = await registerUser(url);
    const host = await registerHost(url);
    const browser = new Browser(url);
    const { state, verifier, ...start } = await authorize(browser, host);
    const { html } = await interactionPage(await signInThere(browser, start, user));
    const resume = (await submitOnce(browser, html, '/consent')).headers.get('location')!;
    const before = cookiesOf(browser);

    faults.failNext('Interaction.find', () => redis.stop());
    await expectOutagePage(await browser.fetch(resume));
    expect(cookiesOf(browser), 'the browser\'s cookies').to.deep.equal(before);
    await redis.start();

    // The person reloads as told until the server has reconnected; no attempt may cost them the sign-in.
    let reloaded = await browser.follow(resume);
    for (let i = 0; i < 20 && reloaded.res.status === 503; i++) {
      expect(cookiesOf(browser), 'the browser\'s cookies while reconnecting').to.deep.equal(before);
      await new Promise((r) => setTimeout(r, 500));
      reloaded = await browser.follow(resume);
    }
    await exchangeOk(url, host, hostRedirect(reloaded, host, state).get('code')!, verifier);
    const again = await authorize(browser, host);
    expect(hostRedirect(again, host, again.state).get('code'), 'the session survived: a code at once').to.be.a('string');
    expect(faults.unfired()).to.deep.equal([]);
  });
});
