import { expect } from 'chai';
import { REFRESH_REUSE_GRACE_SECONDS } from '../config/storage-outages.js';
import { expectHtmlErrorPage, expectOAuthError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { enterDeviceCode } from './helpers/device.js';
import { ownRedisServers, requireRedis, uniquePrefix, type OwnRedis } from './helpers/redis.js';
import { form, json, loggedInBrowser, registerUser, uniqueName } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { StorageFaults, useFaultyServer, type Failure } from './helpers/storage-faults.js';
import {
  authorize, connect, exchange, hostRedirect, interactionPage, introspect, refresh, registerHost, RESOURCE_SERVER_ENV,
  signInThere, type Host, type HostTokens,
} from './helpers/third-party.js';

/*
 * A storage failure in the middle of a request answers 503 with Retry-After; the client's retry with the same
 * credentials must then succeed, however long it waited, and must not look like the replay of a spent code or refresh
 * token (which revokes the whole grant). Faults are injected at exact points between the app and its storage, on
 * memory and on a real Redis; and a real Redis is stopped and frozen at those points too.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Past the refresh-token reuse grace, so that a retry that succeeds owes nothing to it. */
const PAST_GRACE_MS = (REFRESH_REUSE_GRACE_SECONDS + 2) * 1000;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

const answer = async (res: Response): Promise<Answer> =>
  ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() as Record<string, unknown> });

async function expectRetryLater(res: Response) {
  expect(res.headers.get('retry-after'), 'Retry-After').to.equal('2');
  await expectOAuthError(res, 503, 'temporarily_unavailable');
}

function expectUnavailable(a: Answer) {
  expect(a.status, JSON.stringify(a.body)).to.equal(503);
  expect(a.retryAfter, 'Retry-After').to.equal('2');
  expect(a.body.error).to.equal('temporarily_unavailable');
}

function expectTokens(a: Answer): HostTokens {
  expect(a.status, JSON.stringify(a.body)).to.equal(200);
  expect(a.body.access_token).to.be.a('string');
  expect(a.body.refresh_token).to.be.a('string');
  return a.body as unknown as HostTokens;
}

for (const backend of ['memory', 'redis'] as const) {
  describe(`retrying after a storage failure answered 503 (${backend})`, function () {
    this.timeout(30000);
    const faulty = useFaultyServer(backend, RESOURCE_SERVER_ENV);
    const { faults } = faulty;
    let server: TestServer;
    let url: string;
    before(() => ({ server, url } = faulty));

    /** A third-party host (a public client: its refresh tokens rotate) that a user has connected. */
    async function connectedHost() {
      const user = await registerUser(url);
      const host = await registerHost(url);
      const { tokens } = await connect(new Browser(url), host, user);
      return { host, tokens };
    }

    const active = async (token: string) => (await introspect(url, token)).active as boolean;
    const grantOf = async (accessToken: string) => (await server.running.app.provider.AccessToken.find(accessToken))!.grantId!;
    const grantExists = async (grantId: string) => (await server.running.app.provider.Grant.find(grantId)) !== undefined;

    describe('refresh token rotation', () => {
      // Each case is set up and sent first; one wait past the grace then serves them all.
      const sent = new Map<string, { host: Host; tokens: HostTokens; first: Answer }>();
      const rotate = async (label: string, point?: string, how?: Failure) => {
        const { host, tokens } = await connectedHost();
        if (point) faults.failNext(point, how!);
        sent.set(label, { host, tokens, first: await answer(await refresh(url, host, tokens.refresh_token)) });
      };
      const retry = async (label: string) => {
        const { host, tokens } = sent.get(label)!;
        return answer(await refresh(url, host, tokens.refresh_token));
      };

      before(async function () {
        this.timeout(60000);
        await rotate('new refresh token', 'RefreshToken.upsert', 'refused');
        await rotate('new access token', 'AccessToken.upsert', 'refused');
        await rotate('consume refused', 'RefreshToken.consume', 'refused');
        await rotate('consume lost', 'RefreshToken.consume', 'lost');
        await rotate('consume unanswered', 'RefreshToken.consume', 'unanswered');
        await rotate('success');
        await sleep(PAST_GRACE_MS);
      });

      for (const [label, what] of [
        ['new refresh token', 'the new refresh token cannot be saved'],
        ['new access token', 'the new access token cannot be saved'],
        ['consume refused', 'the old refresh token cannot be marked used'],
      ] as const) {
        it(`${what}: 503, and the same refresh token works after the old grace, the grant intact`, async () => {
          const { host, tokens, first } = sent.get(label)!;
          expectUnavailable(first);
          const next = expectTokens(await retry(label));
          expect(next.refresh_token).to.not.equal(tokens.refresh_token);
          expect(await active(tokens.access_token), 'the access token from before the outage').to.equal(true);
          expect(await active(next.access_token)).to.equal(true);
          expectTokens(await answer(await refresh(url, host, next.refresh_token)));
        });
      }

      for (const [label, what] of [
        ['consume lost', 'storage marked the old refresh token used but the reply was lost'],
        ['consume unanswered', 'marking the old refresh token used timed out (it never ran)'],
      ] as const) {
        it(`${what}: the tokens are delivered, and the old refresh token presented later is caught as reuse`, async () => {
          const { host, tokens, first } = sent.get(label)!;
          const delivered = expectTokens(first);
          expect(await active(delivered.access_token)).to.equal(true);
          await expectOAuthError(await refresh(url, host, tokens.refresh_token), 400, 'invalid_grant');
          expect(await active(delivered.access_token), 'revoked with its grant').to.equal(false);
        });
      }

      it('the old refresh token presented after a rotation that succeeded still revokes the grant', async () => {
        const { host, tokens, first } = sent.get('success')!;
        const delivered = expectTokens(first);
        await expectOAuthError(await refresh(url, host, tokens.refresh_token), 400, 'invalid_grant');
        expect(await active(delivered.access_token)).to.equal(false);
        await expectOAuthError(await refresh(url, host, delivered.refresh_token), 400, 'invalid_grant');
      });
    });

    describe('authorization code exchange', () => {
      async function codeFor() {
        const user = await registerUser(url);
        const host = await registerHost(url);
        const browser = new Browser(url);
        const { state, verifier, ...start } = await authorize(browser, host);
        const consent = await signInThere(browser, start, user);
        const back = await browser.submit((await interactionPage(consent)).html, '/consent', {});
        return { host, code: hostRedirect(back, host, state).get('code')!, verifier };
      }

      for (const point of ['AccessToken.upsert', 'RefreshToken.upsert']) {
        it(`${point} fails: 503, and the same code then works`, async () => {
          const { host, code, verifier } = await codeFor();
          faults.failNext(point, 'refused');
          await expectRetryLater(await exchange(url, host, code, verifier));
          const tokens = expectTokens(await answer(await exchange(url, host, code, verifier)));
          expect(await active(tokens.access_token)).to.equal(true);
        });
      }

      it('storage marked the code used but the reply was lost: the tokens are delivered, and a replay still revokes them', async () => {
        const { host, code, verifier } = await codeFor();
        faults.failNext('AuthorizationCode.consume', 'lost');
        const tokens = expectTokens(await answer(await exchange(url, host, code, verifier)));
        expect(await active(tokens.access_token)).to.equal(true);
        await expectOAuthError(await exchange(url, host, code, verifier), 400, 'invalid_grant');
        expect(await active(tokens.access_token)).to.equal(false);
      });

      it('two exchanges of one code racing: one gets tokens, the other invalid_grant, and its tokens are discarded', async () => {
        const { host, code, verifier } = await codeFor();
        let second: Answer | undefined;
        let firstAccessToken: unknown;
        // The first exchange has checked the code and is storing its tokens when the second one runs, start to end.
        faults.failNext('AccessToken.upsert', async (id) => {
          firstAccessToken = id;
          second = await answer(await exchange(url, host, code, verifier));
        });
        const first = await exchange(url, host, code, verifier);
        const tokens = expectTokens(second!);
        await expectOAuthError(first, 400, 'invalid_grant');
        expect(await active(tokens.access_token)).to.equal(true);
        expect(await server.running.app.provider.AccessToken.find(String(firstAccessToken)), 'the loser\'s access token').to.equal(undefined);
      });

      it('a code exchanged successfully and replayed still revokes the tokens issued from it', async () => {
        const { host, code, verifier } = await codeFor();
        const tokens = expectTokens(await answer(await exchange(url, host, code, verifier)));
        await expectOAuthError(await exchange(url, host, code, verifier), 400, 'invalid_grant');
        expect(await active(tokens.access_token)).to.equal(false);
      });
    });

    describe('device code exchange', () => {
      const startDevice = async () => {
        const started = await fetch(`${url}/oauth/device/auth`, form({ client_id: 'mcp-cli', resource: `${url}/mcp` }));
        return await started.json() as { device_code: string; user_code: string };
      };
      const poll = (device: { device_code: string }) =>
        fetch(`${url}/oauth/token`, form({ grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: 'mcp-cli' }));

      it('the access token cannot be saved: 503, and the device\'s next poll gets its tokens', async () => {
        const device = await startDevice();
        const { browser } = await loggedInBrowser(url);
        expect((await enterDeviceCode(browser, device.user_code)).status).to.equal(200);
        faults.failNext('AccessToken.upsert', 'refused');
        await expectRetryLater(await poll(device));
        const tokens = expectTokens(await answer(await poll(device)));
        expect(await active(tokens.access_token)).to.equal(true);
      });

      it('a device code the user refused is spent by the poll that learns it, as before', async () => {
        const device = await startDevice();
        const { browser } = await loggedInBrowser(url);
        await enterDeviceCode(browser, device.user_code, 'cancel');
        await expectOAuthError(await poll(device), 400, 'access_denied');
        await expectOAuthError(await poll(device), 400, 'invalid_grant');
      });
    });

    describe('revocation', () => {
      const revoke = (host: Host, token: string) => fetch(`${url}/oauth/revoke`, form({ token, client_id: host.clientId }));

      /** Storage goes away right after `point` while `token` is revoked; once it is back, the client revokes again. */
      async function revokeThroughOutage(host: Host, token: string, point: string) {
        faults.goDownAfter(point);
        const first = await revoke(host, token);
        faults.restore();
        if (first.status !== 200) await expectRetryLater(first);
        expect((await revoke(host, token)).status).to.equal(200);
      }

      // What the provider writes to revoke each kind of token, in its order: the token, its grant's tokens, the grant.
      const sweeps = ['AccessToken.revokeByGrantId', 'RefreshToken.revokeByGrantId', 'AuthorizationCode.revokeByGrantId'];
      for (const point of ['AccessToken.destroy', ...sweeps]) {
        it(`revoking an access token, storage goes away after ${point}: the retry still ends every token of the grant`, async () => {
          const { host, tokens } = await connectedHost();
          await revokeThroughOutage(host, tokens.access_token, point);
          expect(await active(tokens.access_token)).to.equal(false);
          await expectOAuthError(await refresh(url, host, tokens.refresh_token), 400, 'invalid_grant');
        });
      }

      for (const point of ['RefreshToken.destroy', ...sweeps, 'Grant.destroy']) {
        it(`revoking a refresh token, storage goes away after ${point}: the retry still ends the grant`, async () => {
          const { host, tokens } = await connectedHost();
          const grantId = await grantOf(tokens.access_token);
          await revokeThroughOutage(host, tokens.refresh_token, point);
          expect(await grantExists(grantId), 'the grant').to.equal(false);
          expect(await active(tokens.access_token)).to.equal(false);
          await expectOAuthError(await refresh(url, host, tokens.refresh_token), 400, 'invalid_grant');
        });
      }
    });

    describe('consent', () => {
      for (const point of ['consents.remember', 'Interaction.upsert']) {
        it(`${point} fails on Allow: a 503 page, and pressing Allow again completes the authorization`, async () => {
          const user = await registerUser(url);
          const host = await registerHost(url);
          const browser = new Browser(url);
          const { state, verifier, ...start } = await authorize(browser, host);
          const { html } = await interactionPage(await signInThere(browser, start, user));
          faults.failNext(point, 'refused');
          const failed = await browser.submit(html, '/consent', {});
          await expectHtmlErrorPage(failed.res, 503, 'temporarily_unavailable');
          expect(failed.res.headers.get('retry-after')).to.equal('2');
          const back = await browser.submit(html, '/consent', {});
          const code = hostRedirect(back, host, state).get('code')!;
          expectTokens(await answer(await exchange(url, host, code, verifier)));
          // The consent is remembered: the next authorization asks nothing.
          const again = await authorize(browser, host);
          expect(hostRedirect(again, host, again.state).get('code')).to.be.a('string');
        });
      }
    });

    describe('account registration', () => {
      it('the account was stored but the reply was lost: the retry finds the name taken, and those credentials sign in', async () => {
        const credentials = { username: uniqueName('retry'), password: 'password123' };
        faults.failNext('accounts.create', 'lost');
        await expectRetryLater(await fetch(`${url}/oauth/register`, json(credentials)));
        await expectOAuthError(await fetch(`${url}/oauth/register`, json(credentials)), 409, 'username_taken');
        expect((await new Browser(url).fetch('/oauth/login', json(credentials))).status).to.equal(200);
      });
    });
  });
}

describe('retrying after a real Redis outage', function () {
  this.timeout(40000);
  requireRedis();
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const owned = ownRedisServers('these tests');

  async function serverOn(redis: OwnRedis, faults: StorageFaults) {
    const server = await startTestServer({ ...RESOURCE_SERVER_ENV, REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix() }, { wrapStores: faults.wrap });
    servers.push(server);
    const user = await registerUser(server.url);
    const host = await registerHost(server.url);
    const { tokens } = await connect(new Browser(server.url), host, user);
    return { url: server.url, host, tokens };
  }

  it('Redis stops right after the refresh began and is back after the old grace: the same refresh token works', async () => {
    const redis = await owned.launch({ persistent: true });
    const faults = new StorageFaults();
    const { url, host, tokens } = await serverOn(redis, faults);
    faults.failNext('RefreshToken.upsert', () => redis.stop());
    await expectRetryLater(await refresh(url, host, tokens.refresh_token));
    await sleep(PAST_GRACE_MS);
    await redis.start();
    // The client retries as told until the server has reconnected; no attempt may spend the token.
    let res = await refresh(url, host, tokens.refresh_token);
    for (let i = 0; res.status === 503 && i < 20; i++) {
      await sleep(500);
      res = await refresh(url, host, tokens.refresh_token);
    }
    expectTokens(await answer(res));
    expect((await introspect(url, tokens.access_token)).active, 'the grant survived').to.equal(true);
    expect(faults.unfired()).to.deep.equal([]);
  });

  it('Redis stalls as the old refresh token is marked used: the tokens are delivered, and its reuse is still caught', async () => {
    const redis = await owned.launch();
    const faults = new StorageFaults();
    const { url, host, tokens } = await serverOn(redis, faults);
    faults.failNext('RefreshToken.consume', async () => {
      redis.freeze();
      setTimeout(() => redis.thaw(), 2500);
    });
    const delivered = expectTokens(await answer(await refresh(url, host, tokens.refresh_token)));
    await sleep(PAST_GRACE_MS);
    await expectOAuthError(await refresh(url, host, tokens.refresh_token), 400, 'invalid_grant');
    expect((await introspect(url, delivered.access_token)).active, 'revoked with its grant').to.equal(false);
    expect(faults.unfired()).to.deep.equal([]);
  });
});
