import { expect } from 'chai';
import { Redis } from 'ioredis';
import { ANONYMOUS_INTERACTION_TTL, TTL } from '../config/provider.js';
import { PARAMETER_LIMITS } from '../config/parameter-limits.js';
import { expectHtmlErrorPage, expectHtmlPage, expectOAuthError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { EXPIRY_SLACK_MS } from '../adapters/expiry.js';
import { keysUnder, requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeCode, authorizeUrl, form, loggedInBrowser, pkce, uniqueName } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { authorize, connect, hostRedirect, interactionPage, registerHost } from './helpers/third-party.js';

/*
 * What anyone can make the provider store without signing in: an interaction per authorization request, a pushed
 * request, a device code, the session of a device or sign-out page. Its interactions are kept minutes, not an hour,
 * and each client network may make only so many such records in a window.
 */

const MINUTE = 60_000;
const HTML = { accept: 'text/html' };
const JSON_ONLY = { accept: 'application/json' };

describe('records of nobody signed in', function () {
  this.timeout(30000);
  const redis = requireRedis();
  let client: Redis;
  before(() => {
    client = new Redis(redis.url);
  });
  after(async () => {
    await client?.quit();
  });

  /** A server on the shared Redis under a prefix of its own, closed after the suite. */
  function serverOnRedis(env: Record<string, string> = {}) {
    const on = { server: undefined as unknown as TestServer, prefix: '' };
    before(async () => {
      on.prefix = uniquePrefix();
      on.server = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: on.prefix, ...env });
    });
    after(async () => {
      await on.server?.close();
    });
    return on;
  }

  /** The records of the models anyone can make the provider store, under `prefix`. */
  const recordsUnder = async (prefix: string) =>
    (await keysUnder(client, prefix)).filter((key) => /^(Interaction|Session|PushedAuthorizationRequest|DeviceCode):/.test(key));

  describe('interactions', () => {
    const on = serverOnRedis();
    const interactionTtl = (uid: string) => client.pttl(`${on.prefix}Interaction:{${uid}}`);
    /** Milliseconds Redis keeps a record saved for `seconds`, less up to a minute gone by. */
    const kept = (seconds: number) => [seconds * 1000 - MINUTE, seconds * 1000 + EXPIRY_SLACK_MS] as const;

    it(`an interaction nobody signed in to is kept ${ANONYMOUS_INTERACTION_TTL / 60} minutes, and its cookies as long`, async () => {
      const res = await fetch(authorizeUrl(on.server.url), { redirect: 'manual' });
      expect(res.status).to.equal(303);
      const uid = new URL(res.headers.get('location')!, on.server.url).pathname.split('/')[2]!;
      expect(await interactionTtl(uid)).to.be.within(...kept(ANONYMOUS_INTERACTION_TTL));
      const cookies = res.headers.getSetCookie().filter((c) => /^_interaction(_resume)?=/.test(c));
      expect(cookies).to.have.length(2);
      for (const cookie of cookies) {
        const expires = Date.parse(/expires=([^;]+)/i.exec(cookie)![1]!);
        expect(expires - Date.now(), cookie).to.be.within(ANONYMOUS_INTERACTION_TTL * 1000 - MINUTE, ANONYMOUS_INTERACTION_TTL * 1000 + 1000);
      }
    });

    it('a sign-in submitted on it keeps the time it had left, not a fresh hour', async () => {
      const user = { username: uniqueName(), password: 'password123' };
      expect((await fetch(`${on.server.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) })).status).to.equal(201);
      const browser = new Browser(on.server.url);
      const { html, uid } = await interactionPage(await browser.follow(authorizeUrl(on.server.url)));
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      // The sign-in alone, without following on to the authorization endpoint, which would end the interaction.
      const signedIn = await browser.fetch(`/interaction/${uid}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
        body: new URLSearchParams({ csrf, ...user }).toString(),
      });
      expect(signedIn.status).to.equal(303);
      expect(await interactionTtl(uid)).to.be.within(1, kept(ANONYMOUS_INTERACTION_TTL)[1]);
    });

    it('a person who creates an account on the sign-in page goes on to consent, kept the full hour, and connects', async () => {
      const host = await registerHost(on.server.url);
      const browser = new Browser(on.server.url);
      const { state, ...start } = await authorize(browser, host);
      const { uid: loginUid } = await interactionPage(start);
      expect(await interactionTtl(loginUid)).to.be.within(...kept(ANONYMOUS_INTERACTION_TTL));

      const registerPage = await browser.follow(`/interaction/${loginUid}/register`);
      const user = { username: uniqueName(), password: 'password123' };
      const consent = await browser.submit(await registerPage.res.text(), '/register', { ...user, confirm: user.password });
      const { html, uid: consentUid } = await interactionPage(consent);
      expect(html).to.include('/consent"');
      expect(consentUid).to.not.equal(loginUid);
      expect(await interactionTtl(consentUid)).to.be.within(...kept(TTL.Interaction));

      const back = await browser.submit(html, '/consent', {});
      expect(hostRedirect(back, host, state).get('code')).to.be.a('string');
    });

    it('an anonymous authorization request stores a few KB for minutes, not 16 KB for an hour', async () => {
      const before = new Set(await keysUnder(client, on.prefix));
      // The audit's request: as long a state and nonce as a request line takes (it stored 16.6 KB for an hour).
      const audit = await fetch(authorizeUrl(on.server.url, { scope: 'openid', state: 'x'.repeat(7600), nonce: 'x'.repeat(7600) }), { redirect: 'manual' });
      expect(audit.status).to.equal(400);
      expect(await keysUnder(client, on.prefix)).to.deep.equal([...before].sort());

      const limit = (name: string) => 'x'.repeat(PARAMETER_LIMITS[name]!);
      const res = await fetch(authorizeUrl(on.server.url, {
        scope: 'openid', state: limit('state'), nonce: limit('nonce'), login_hint: limit('login_hint'),
        acr_values: limit('acr_values'), ui_locales: limit('ui_locales'), claims_locales: limit('claims_locales'),
        max_age: `${'0'.repeat(PARAMETER_LIMITS.max_age! - 1)}1`,
      }), { redirect: 'manual' });
      expect(res.status).to.equal(303);
      const stored = (await keysUnder(client, on.prefix)).filter((key) => !before.has(key));
      expect(stored.map((key) => key.slice(0, key.indexOf('{')))).to.deep.equal(['Interaction:']);
      const bytes = Number(await client.call('MEMORY', 'USAGE', `${on.prefix}${stored[0]}`, 'SAMPLES', '0'));
      console.log(`      redis bytes per anonymous authorization request, every free-form parameter at its limit: ${bytes}`);
      expect(bytes).to.be.below(6 * 1024);
      expect(await client.pttl(`${on.prefix}${stored[0]}`)).to.be.within(...kept(ANONYMOUS_INTERACTION_TTL));
    });
  });

  describe('per client network', () => {
    const on = serverOnRedis({ LIMIT_ANONYMOUS_RECORDS_PER_IP: '3', TRUST_PROXY: 'true' });
    let from = 0;
    /** A fresh client address per test (TRUST_PROXY is on here), so the tests' counts do not mix. */
    const address = () => ({ 'x-forwarded-for': `198.51.100.${++from}` });
    const records = () => recordsUnder(on.prefix);

    const startSignIn = (ip: Record<string, string>, headers: Record<string, string> = HTML) =>
      fetch(authorizeUrl(on.server.url), { headers: { ...headers, ...ip }, redirect: 'manual' });
    const push = (ip: Record<string, string>) => fetch(`${on.server.url}/oauth/par`, form({
      client_id: 'mcp-cli', response_type: 'code', redirect_uri: 'http://127.0.0.1/callback',
      code_challenge: pkce().challenge, code_challenge_method: 'S256',
    }, ip));
    const startDevice = (ip: Record<string, string>) => fetch(`${on.server.url}/oauth/device/auth`, form({ client_id: 'mcp-cli' }, ip));

    function expectRetryAfter(res: Response) {
      expect(Number(res.headers.get('retry-after'))).to.be.within(1, 600);
    }
    const TOO_MANY = /too many sign-ins started from this network; try again in \d+ seconds/;

    it('answers 429 once an address has started too many sign-ins, as a page or in JSON, and stores nothing more', async () => {
      const ip = address();
      for (let i = 0; i < 3; i++) expect((await startSignIn(ip)).status).to.equal(303);
      const stored = await records();

      const page = await startSignIn(ip);
      expectRetryAfter(page);
      expect(await expectHtmlErrorPage(page, 429, 'too_many_requests')).to.match(TOO_MANY);
      const json = await startSignIn(ip, JSON_ONLY);
      expectRetryAfter(json);
      expect((await expectOAuthError(json, 429, 'too_many_requests')).error_description).to.match(TOO_MANY);
      expect(await records()).to.deep.equal(stored);

      // Every spelling of the path the provider routes.
      const spelled = new URL(authorizeUrl(on.server.url));
      spelled.pathname = '/OAUTH/Authorize/';
      expect((await fetch(spelled, { headers: { ...JSON_ONLY, ...ip } })).status).to.equal(429);
      // Another address is not held back.
      expect((await startSignIn(address())).status).to.equal(303);
    });

    it('counts pushed requests, device codes and the device and sign-out pages\' sessions too, and refuses each', async () => {
      const ip = address();
      expect((await push(ip)).status).to.equal(201);
      expect((await startDevice(ip)).status).to.equal(200);
      const devicePage = new Browser(on.server.url);
      expect((await devicePage.fetch('/oauth/device', { headers: ip })).status).to.equal(200);
      const stored = await records();

      for (const res of [await push(ip), await startDevice(ip)]) {
        expectRetryAfter(res);
        expect((await expectOAuthError(res, 429, 'too_many_requests')).error_description).to.match(TOO_MANY);
      }
      const signOut = await fetch(`${on.server.url}/oauth/logout`, { headers: { ...HTML, ...ip } });
      expectRetryAfter(signOut);
      expect(await expectHtmlErrorPage(signOut, 429, 'too_many_requests')).to.match(TOO_MANY);
      const device = await fetch(`${on.server.url}/oauth/device`, { headers: { ...HTML, ...ip } });
      expectRetryAfter(device);
      expect(await expectHtmlPage(device, 429)).to.include('too many sign-ins started from this network');
      expect(device.headers.getSetCookie(), 'a cookie for a session that was not stored').to.deep.equal([]);
      expect(await records()).to.deep.equal(stored);
    });

    it('does not count a record saved again: a browser going through the device pages counts its session once', async () => {
      const ip = address();
      const browser = new Browser(on.server.url);
      const first = await browser.fetch('/oauth/device', { headers: ip });
      expect(first.status).to.equal(200);
      let page = await first.text();
      for (let i = 0; i < 4; i++) {
        const wrong = await browser.submit(page, '/oauth/device', { user_code: 'BCDF-GHJK' }, ip);
        expect(wrong.res.status).to.equal(400);
        page = await wrong.res.text();
        expect(page).to.include('That code is not right');
      }
      expect((await startSignIn(ip)).status).to.equal(303);
      expect((await startSignIn(ip)).status).to.equal(303);
      expect((await startSignIn(ip)).status).to.equal(429);
    });

    it('admits or refuses a request as a whole: an interaction and the session beside it count once', async () => {
      const ip = address();
      // A signed session cookie naming a session no longer stored: the provider stores a new session with the interaction.
      const stale = new Browser(on.server.url);
      expect((await stale.fetch('/oauth/device', { headers: address() })).status).to.equal(200);
      await client.del(`${on.prefix}Session:{${stale.cookies.get('_session')}}`);
      const withStaleSession = () => fetch(authorizeUrl(on.server.url), { headers: { ...ip, cookie: stale.cookieHeader() }, redirect: 'manual' });

      const before = await records();
      expect((await withStaleSession()).status).to.equal(303);
      const added = (await records()).filter((key) => !before.includes(key));
      expect(added.map((key) => key.slice(0, key.indexOf('{'))).sort()).to.deep.equal(['Interaction:', 'Session:', 'Session:uid:']);
      expect((await startSignIn(ip)).status).to.equal(303);
      expect((await startSignIn(ip)).status).to.equal(303);
      const stored = await records();
      expect((await withStaleSession()).status).to.equal(429);
      expect(await records(), 'neither the interaction nor the session').to.deep.equal(stored);
    });

    it('holds back no one signed in: their interactions are theirs, not anonymous', async () => {
      // Requests without X-Forwarded-For come from the loopback address: use it up first.
      const loopback = {};
      for (let i = 0; i < 3; i++) await startSignIn(loopback);
      expect((await startSignIn(loopback)).status).to.equal(429);

      const { browser, user } = await loggedInBrowser(on.server.url);
      const { code } = await authorizeCode(browser);
      expect(code).to.be.a('string');
      // A third-party host: a consent interaction of the signed-in user.
      const { consentPage } = await connect(browser, await registerHost(on.server.url), user);
      expect(consentPage).to.be.a('string');
    });
  });
});
