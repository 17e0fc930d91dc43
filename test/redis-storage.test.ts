import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { VERSION } from '../src/version.js';
import { Browser } from './helpers/browser.js';
import { freePort, keysUnder, ownRedisServers, requireRedis, uniquePrefix } from './helpers/redis.js';
import {
  authorizeCode, authorizeUrl, exchangeCode, form, json, loggedInBrowser, registerUser, tokensFor, uniqueName, type Tokens,
} from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * The server on a real Redis, end to end: restarts and several instances share one state, one-time things
 * stay one-time under concurrency (on Redis and in memory), an outage is a quick 503 and heals by itself,
 * nothing is stored half-way, and what an active session costs in Redis memory.
 */

const CLIENT = { client_id: 'client1', client_secret: 'secret1' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });
const withTimeout = (init: RequestInit = {}): RequestInit => ({ ...init, signal: AbortSignal.timeout(5000) });

/** The address a running server actually listens on (its issuer may name another instance). */
function addressOf(server: TestServer): string {
  const { port } = server.running.server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

function refresh(base: string, refreshToken: string, init: RequestInit = {}) {
  return fetch(`${base}/oauth/token`, { ...form({ grant_type: 'refresh_token', refresh_token: refreshToken, ...CLIENT }), ...init });
}

/** Servers opened by a suite, closed by its after hook however its tests ended. */
function serverPool() {
  const open = new Set<TestServer>();
  after(async () => {
    await Promise.all([...open].map((s) => s.close()));
    open.clear();
  });
  return {
    async start(env: Record<string, string>) {
      const server = await startTestServer(env);
      open.add(server);
      return server;
    },
    async close(server: TestServer) {
      open.delete(server);
      await server.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------

describe('Redis storage, end to end', function () {
  this.timeout(30000);

  describe('on a shared Redis', () => {
    const redis = requireRedis();
    const servers = serverPool();
    let client: Redis;

    before(() => {
      client = new Redis(redis.url, { lazyConnect: false });
    });
    after(async () => {
      await client?.quit();
    });

    const onRedis = (prefix: string, extra: Record<string, string> = {}) =>
      servers.start({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, ...extra });

    it('a restart keeps everything: session, tokens, accounts and the signing key', async () => {
      const prefix = uniquePrefix();
      const port = String(await freePort());
      // Same port, so the same issuer, as a restarted deployment would have; no COOKIE_KEYS or JWKS.
      const a = await onRedis(prefix, { PORT: port });
      const { browser, user, tokens } = await tokensFor(a.url);
      expect(tokens.id_token, 'an ID token (scope openid)').to.be.a('string');
      const jwksA = await (await fetch(`${a.url}/oauth/jwks`)).json();
      await servers.close(a);

      const b = await onRedis(prefix, { PORT: port });
      expect(b.url).to.equal(a.url);

      // The old session cookie still signs the browser in: straight back to the callback, no login page.
      const res = await browser.fetch(authorizeUrl(b.url));
      expect(res.status).to.equal(303);
      const location = new URL(res.headers.get('location')!);
      expect(location.pathname).to.equal('/callback');
      const code = location.searchParams.get('code');
      expect(code).to.be.a('string');
      expect((await exchangeCode(b.url, code!)).status).to.equal(200);

      const info = await fetch(`${b.url}/oauth/userinfo`, bearer(tokens.access_token));
      expect(info.status).to.equal(200);
      expect(await info.json()).to.include({ id: user.userId, username: user.username });

      const refreshed = await refresh(b.url, tokens.refresh_token);
      expect(refreshed.status).to.equal(200);
      const renewed = await refreshed.json() as Tokens;
      expect((await fetch(`${b.url}/oauth/userinfo`, bearer(renewed.access_token))).status).to.equal(200);

      const login = await fetch(`${b.url}/oauth/login`, json({ username: user.username, password: user.password }));
      expect(login.status).to.equal(200);

      const jwksB = await (await fetch(`${b.url}/oauth/jwks`)).json();
      const kids = (jwks: { keys: { kid: string }[] }) => jwks.keys.map((k) => k.kid).sort();
      expect(kids(jwksB)).to.deep.equal(kids(jwksA)).and.have.length.greaterThan(0);

      // A's ID token verifies against B's published keys.
      expect(kids(jwksB)).to.include(decodeProtectedHeader(tokens.id_token!).kid);
      const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${b.url}/oauth/jwks`)), {
        issuer: b.url,
        audience: 'client1',
      });
      expect(payload.sub).to.equal(user.userId);
    });

    it('two instances on one Redis serve one user: login on A, authorize on B, token on A, userinfo and refresh on B, revoke on A', async () => {
      const prefix = uniquePrefix();
      const portA = await freePort();
      const issuer = `http://localhost:${portA}`;
      // One public URL (ISSUER) for both, as behind a load balancer; each listens on its own port.
      const a = await onRedis(prefix, { PORT: String(portA), ISSUER: issuer });
      const b = await onRedis(prefix, { ISSUER: issuer });
      const baseA = addressOf(a);
      const baseB = addressOf(b);
      expect(baseB).to.not.equal(baseA);

      const { browser: browserA, user } = await loggedInBrowser(baseA);
      const browserB = new Browser(baseB);
      for (const [name, value] of browserA.cookies) browserB.cookies.set(name, value);
      expect(browserB.cookies.size).to.be.greaterThan(0);

      const params = new URLSearchParams({ client_id: 'client1', redirect_uri: `${issuer}/callback`, response_type: 'code', state: 's1' });
      const authorized = await browserB.fetch(`/oauth/authorize?${params}`);
      expect(authorized.status).to.equal(303);
      const callback = new URL(authorized.headers.get('location')!);
      expect(`${callback.origin}${callback.pathname}`).to.equal(`${issuer}/callback`);
      const code = callback.searchParams.get('code')!;
      expect(code).to.be.a('string');

      const exchanged = await fetch(`${baseA}/oauth/token`, form({
        grant_type: 'authorization_code', code, redirect_uri: `${issuer}/callback`, ...CLIENT,
      }));
      expect(exchanged.status).to.equal(200);
      const tokens = await exchanged.json() as Tokens;

      const info = await fetch(`${baseB}/oauth/userinfo`, bearer(tokens.access_token));
      expect(info.status).to.equal(200);
      expect(await info.json()).to.include({ id: user.userId, username: user.username });

      const refreshed = await refresh(baseB, tokens.refresh_token);
      expect(refreshed.status).to.equal(200);
      const renewed = await refreshed.json() as Tokens;
      const refreshToken = renewed.refresh_token ?? tokens.refresh_token;
      expect((await fetch(`${baseB}/oauth/userinfo`, bearer(renewed.access_token))).status).to.equal(200);

      const revoked = await fetch(`${baseA}/oauth/revoke`, form({ token: refreshToken, token_type_hint: 'refresh_token', ...CLIENT }));
      expect(revoked.status).to.equal(200);
      expect((await fetch(`${baseB}/oauth/userinfo`, bearer(renewed.access_token))).status).to.equal(401);
      expect((await fetch(`${baseB}/oauth/userinfo`, bearer(tokens.access_token))).status).to.equal(401);
      const again = await refresh(baseB, refreshToken);
      expect(again.status).to.equal(400);
      expect((await again.json()).error).to.equal('invalid_grant');
    });

    it('a session without an account lives minutes; signing in saves it for the full 14 days', async () => {
      const prefix = uniquePrefix();
      const server = await onRedis(prefix);
      const browser = new Browser(server.url);
      const sessionTtl = async () => {
        const id = browser.cookies.get('_session');
        expect(id, 'a session cookie').to.be.a('string');
        return client.pttl(`${prefix}Session:{${id}}`);
      };
      const MINUTE = 60_000;
      const DAY = 24 * 60 * MINUTE;

      // These pages store a session for their form's CSRF secret, for anyone who asks (the logout page may stop
      // storing one: then there is nothing to bound).
      for (const page of ['/oauth/logout', '/oauth/device']) {
        const anonymous = new Browser(server.url);
        await (await anonymous.fetch(page)).body?.cancel();
        const id = anonymous.cookies.get('_session');
        if (id) expect(await client.pttl(`${prefix}Session:{${id}}`), page).to.be.within(9 * MINUTE, 11 * MINUTE);
      }

      expect((await browser.fetch('/oauth/device')).status).to.equal(200);
      expect(await sessionTtl()).to.be.within(9 * MINUTE, 11 * MINUTE);

      // The same browser signs in through the provider's login interaction (login page, then resume).
      const user = await registerUser(server.url);
      const { res } = await browser.follow(authorizeUrl(server.url));
      const signedIn = await browser.submit(await res.text(), '/login', { username: user.username, password: user.password });
      expect(signedIn.url.pathname).to.equal('/callback');
      expect(await sessionTtl()).to.be.within(13 * DAY, 14 * DAY + MINUTE);

      // A signed-in session opening the same page keeps its lifetime.
      expect((await browser.fetch('/oauth/device')).status).to.equal(200);
      expect(await sessionTtl()).to.be.within(13 * DAY, 14 * DAY + MINUTE);
    });

    describe('nothing is stored half-way', () => {
      it('refused registrations leave no keys under the prefix, and a taken name leaves no stray account pointer', async () => {
        const prefix = uniquePrefix();
        const server = await onRedis(prefix);
        const before = await keysUnder(client, prefix);
        expect(before, 'only the generated key material').to.deep.equal(['keys:cookie-keys', 'keys:jwks']);

        const refused = [
          { username: 'ab', password: 'password123' },
          { username: 'has space', password: 'password123' },
          { username: uniqueName(), password: 'short' },
          { username: uniqueName() },
          { password: 'password123' },
          { username: 42, password: 'password123' },
        ];
        for (const body of refused) {
          const res = await fetch(`${server.url}/oauth/register`, json(body));
          expect(res.status, JSON.stringify(body)).to.equal(400);
        }
        const notJson = await fetch(`${server.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' });
        expect(notJson.status).to.equal(400);
        expect(await keysUnder(client, prefix)).to.deep.equal(before);

        // A wrong password signs nobody in: no session is stored.
        const user = await registerUser(server.url);
        const wrong = await fetch(`${server.url}/oauth/login`, json({ username: user.username, password: 'wrong-password' }));
        expect(wrong.status).to.equal(401);
        const taken = await fetch(`${server.url}/oauth/register`, json({ username: user.username.toUpperCase(), password: 'password123' }));
        expect(taken.status).to.equal(409);
        const after = await keysUnder(client, prefix);
        expect(after.filter((k) => k.startsWith('account:'))).to.have.length(1);
        expect(after.filter((k) => k.startsWith('account-id:'))).to.have.length(1);
        expect(after.filter((k) => !k.startsWith('account') && !k.startsWith('keys:'))).to.deep.equal([]);
      });

      it('a replayed code removes the whole grant: tokens, code, grant and its index', async () => {
        const prefix = uniquePrefix();
        const server = await onRedis(prefix);
        const { browser } = await loggedInBrowser(server.url);
        const { code } = await authorizeCode(browser);
        const first = await exchangeCode(server.url, code);
        expect(first.status).to.equal(200);
        const tokens = await first.json() as Tokens;
        const stored = await keysUnder(client, prefix);
        for (const model of ['AccessToken:', 'RefreshToken:', 'Grant:', 'grant:']) {
          expect(stored.some((k) => k.startsWith(model)), `${model} stored after the exchange`).to.equal(true);
        }

        const replay = await exchangeCode(server.url, code);
        expect(replay.status).to.equal(400);
        expect((await replay.json()).error).to.equal('invalid_grant');

        const left = await keysUnder(client, prefix);
        for (const model of ['AccessToken:', 'RefreshToken:', 'AuthorizationCode:', 'Grant:', 'grant:']) {
          expect(left.filter((k) => k.startsWith(model)), `${model} records after the replay`).to.deep.equal([]);
        }
        expect((await fetch(`${server.url}/oauth/userinfo`, bearer(tokens.access_token))).status).to.equal(401);
        expect((await refresh(server.url, tokens.refresh_token)).status).to.equal(400);
      });
    });

    it('Redis memory per active session (session + grant + tokens) is small', async () => {
      const prefix = uniquePrefix();
      const server = await onRedis(prefix);
      const { tokens } = await tokensFor(server.url);
      expect(tokens.access_token).to.be.a('string');

      // The account itself (its claim on the name and its id pointer) is not the session's; its index of sessions and grants is.
      const perSession = (await keysUnder(client, prefix)).filter((k) => !/^account(-id)?:/.test(k) && !k.startsWith('keys:'));
      expect(perSession.some((k) => k.startsWith('Session:'))).to.equal(true);
      expect(perSession.some((k) => k.startsWith('AccessToken:'))).to.equal(true);
      let bytes = 0;
      for (const key of perSession) {
        const usage = Number(await client.call('MEMORY', 'USAGE', `${prefix}${key}`, 'SAMPLES', '0'));
        expect(usage, key).to.be.greaterThan(0);
        bytes += usage;
      }
      const models = [...new Set(perSession.map((k) => k.slice(0, k.indexOf('{'))))].join(', ');
      console.log(`      redis bytes per active session: ${bytes} (session+grant+tokens, ${perSession.length} keys: ${models})`);
      expect(bytes).to.be.greaterThan(0).and.below(20 * 1024);
    });
  });

  // ---------------------------------------------------------------------------------------------------------

  for (const backend of ['redis', 'memory'] as const) {
    describe(`one-time things stay one-time under concurrency (${backend})`, () => {
      const redis = backend === 'redis' ? requireRedis() : undefined;
      const servers = serverPool();
      let url: string;

      before(async () => {
        const server = await servers.start(redis ? { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix() } : {});
        url = server.url;
      });

      it('50 concurrent token requests with one code: exactly one 200, 49 × 400 invalid_grant', async () => {
        const { browser } = await loggedInBrowser(url);
        const { code } = await authorizeCode(browser);
        const answers = await Promise.all(Array.from({ length: 50 }, async () => {
          const res = await exchangeCode(url, code);
          return { status: res.status, body: await res.json() };
        }));
        const ok = answers.filter((a) => a.status === 200);
        const refused = answers.filter((a) => a.status === 400);
        const others = answers.filter((a) => a.status !== 200 && a.status !== 400);
        expect(others, 'answers other than 200 and 400').to.deep.equal([]);
        expect(ok).to.have.length(1);
        expect(refused).to.have.length(49);
        for (const a of refused) expect(a.body.error).to.equal('invalid_grant');
        expect(ok[0]!.body.access_token).to.be.a('string');
      });

      it('20 concurrent registrations of one username in mixed case: exactly one 201, 19 × 409 username_taken', async () => {
        const name = uniqueName('race');
        const variants = Array.from({ length: 20 }, (_, i) =>
          [...name].map((ch, j) => ((i >> (j % 5)) & 1 ? ch.toUpperCase() : ch.toLowerCase())).join(''));
        const answers = await Promise.all(variants.map(async (username) => {
          const res = await fetch(`${url}/oauth/register`, json({ username, password: 'password123' }));
          return { username, status: res.status, body: await res.json() };
        }));
        const created = answers.filter((a) => a.status === 201);
        const taken = answers.filter((a) => a.status === 409);
        expect(created, JSON.stringify(answers.map((a) => a.status))).to.have.length(1);
        expect(taken).to.have.length(19);
        for (const a of taken) expect(a.body.error).to.equal('username_taken');
        // The one account that exists is the winner's, and any letter case of the name signs in to it.
        const login = await fetch(`${url}/oauth/login`, json({ username: name.toUpperCase(), password: 'password123' }));
        expect(login.status).to.equal(200);
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------

  describe('a Redis outage', () => {
    requireRedis();
    const servers = serverPool();
    const owned = ownRedisServers('the outage tests');
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);

    before(() => process.on('unhandledRejection', record));
    after(() => {
      process.off('unhandledRejection', record);
    });

    async function expect503(label: string, send: () => Promise<Response>) {
      const started = Date.now();
      const res = await send();
      const elapsed = Date.now() - started;
      expect(res.status, `${label}: status`).to.equal(503);
      expect(await res.json(), label).to.include({ error: 'temporarily_unavailable' });
      expect(res.headers.get('retry-after'), `${label}: Retry-After`).to.equal('2');
      expect(elapsed, `${label}: answered in ${elapsed} ms`).to.be.below(3000);
    }

    it('answers 503 temporarily_unavailable quickly while Redis is down, stays up, and recovers by itself', async () => {
      const redis = await owned.launch();
      const server = await servers.start({ REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix() });
      const { url } = server;
      const { browser, user, tokens } = await tokensFor(url);
      const { code } = await authorizeCode(browser);

      await redis.stop();

      await expect503('POST /oauth/login', () => fetch(`${url}/oauth/login`, withTimeout(json({ username: user.username, password: user.password }))));
      await expect503('POST /oauth/register', () => fetch(`${url}/oauth/register`, withTimeout(json({ username: uniqueName(), password: 'password123' }))));
      await expect503('POST /oauth/token (code)', () => fetch(`${url}/oauth/token`, withTimeout(form({
        grant_type: 'authorization_code', code, redirect_uri: `${url}/callback`, ...CLIENT,
      }))));
      await expect503('POST /oauth/token (refresh)', () => refresh(url, tokens.refresh_token, { signal: AbortSignal.timeout(5000) }));
      await expect503('GET /oauth/userinfo', () => fetch(`${url}/oauth/userinfo`, withTimeout(bearer(tokens.access_token))));

      // A browser at the authorization endpoint: an error page or an error redirect to the client, never a 500.
      const authorize = await browser.fetch(authorizeUrl(url), withTimeout());
      expect(authorize.status).to.not.equal(500);
      if (authorize.status === 503) {
        expect(authorize.headers.get('content-type')).to.match(/text\/html/);
        expect(await authorize.text()).to.include('temporarily_unavailable');
      } else {
        expect(authorize.status, 'a 503 page or a redirect').to.be.oneOf([302, 303]);
        const location = new URL(authorize.headers.get('location')!);
        expect(`${location.origin}${location.pathname}`).to.equal(`${url}/callback`);
        expect(location.searchParams.get('error')).to.equal('temporarily_unavailable');
        expect(location.searchParams.get('state')).to.equal('random_state');
      }

      // The process is up: what needs no storage still works.
      expect(server.running.server.listening).to.equal(true);
      expect((await fetch(`${url}/.well-known/openid-configuration`, withTimeout())).status).to.equal(200);

      // Redis comes back empty (it persists nothing): a new user, the whole flow, within a few seconds.
      await redis.start();
      const deadline = Date.now() + 5000;
      let status = 0;
      const username = uniqueName('back');
      while (Date.now() < deadline) {
        status = (await fetch(`${url}/oauth/register`, withTimeout(json({ username, password: 'password123' })))).status;
        if (status === 201) break;
        expect(status, 'while reconnecting').to.equal(503);
        await sleep(100);
      }
      expect(status, 'registration after Redis is back').to.equal(201);
      const after = await tokensFor(url);
      expect((await fetch(`${url}/oauth/userinfo`, bearer(after.tokens.access_token))).status).to.equal(200);
      expect(unhandled, 'unhandled rejections').to.deep.equal([]);
    });

    it('a full Redis (maxmemory, noeviction, as docker-compose.yml runs it) is a 503 for what stores; reads go on', async () => {
      const redis = await owned.launch();
      const prefix = uniquePrefix();
      const server = await servers.start({ REDIS_URL: redis.url, REDIS_PREFIX: prefix });
      // The same storage with the per-address limit of anonymous records on, which counts in Redis too.
      const limited = await servers.start({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, LIMIT_ANONYMOUS_RECORDS_PER_IP: '100' });
      const { url } = server;
      const { browser, tokens } = await tokensFor(url);
      const admin = new Redis(redis.url);
      try {
        // Full: it holds more than its maxmemory already, and evicts nothing.
        await admin.config('SET', 'maxmemory-policy', 'noeviction');
        await admin.config('SET', 'maxmemory', '1');
        expect(await admin.set('one-more', 'x').catch((err: Error) => err.message)).to.match(/^OOM /);

        const push = (base: string) => fetch(`${base}/oauth/par`, withTimeout(form({
          client_id: 'mcp-cli', response_type: 'code', redirect_uri: 'http://127.0.0.1/callback',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
        })));
        await expect503('POST /oauth/par', () => push(url));
        await expect503('POST /oauth/par, counted per address first', () => push(limited.url));
        await expect503('POST /oauth/device/auth', () => fetch(`${url}/oauth/device/auth`, withTimeout(form({ client_id: 'mcp-cli' }))));
        await expect503('POST /oauth/register', () => fetch(`${url}/oauth/register`, withTimeout(json({ username: uniqueName(), password: 'password123' }))));
        for (const base of [url, limited.url]) {
          const signIn = await fetch(authorizeUrl(base), withTimeout({ redirect: 'manual' }));
          expect(signIn.status, 'a sign-in: an error redirect to the client').to.equal(303);
          expect(new URL(signIn.headers.get('location')!).searchParams.get('error')).to.equal('temporarily_unavailable');
        }
        expect(await keysUnder(admin, `${prefix}PushedAuthorizationRequest:`), 'no record stored past maxmemory').to.deep.equal([]);

        // Reads: a token in hand still works.
        expect((await fetch(`${url}/oauth/userinfo`, withTimeout(bearer(tokens.access_token)))).status).to.equal(200);

        // Once there is room again, everything works again.
        await admin.config('SET', 'maxmemory', '0');
        const { code } = await authorizeCode(browser);
        expect((await exchangeCode(url, code)).status).to.equal(200);
      } finally {
        await admin.quit();
      }
      expect(unhandled, 'unhandled rejections').to.deep.equal([]);
    });

    it('a server started while its Redis is down answers 503 meanwhile and comes up by itself once Redis starts', async () => {
      const redis = await owned.launch();
      await redis.stop();
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const starting = startTestServer({ PORT: String(port), REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix() });
      let started: TestServer | undefined;
      void starting.then((s) => { started = s; });
      let redisUp = false;
      try {
        let answered: Response | undefined;
        for (let i = 0; i < 50 && !answered; i++) {
          answered = await fetch(`${base}/oauth/login`, withTimeout(json({ username: 'someone', password: 'password123' }))).catch(() => undefined);
          if (!answered) await sleep(100);
        }
        expect(answered, 'the server listens before its storage is ready').to.not.equal(undefined);
        expect(answered!.status).to.equal(503);
        expect(await answered!.json()).to.include({ error: 'temporarily_unavailable' });
        const live = await fetch(`${base}/healthz`, withTimeout());
        expect(await live.json(), 'alive, and which version').to.deep.equal({ status: 'ok', version: VERSION });
        expect((await fetch(`${base}/readyz`, withTimeout())).status).to.equal(503);
        await sleep(500);
        expect(started, 'start() waits for Redis').to.equal(undefined);
        await expect503('GET /oauth/userinfo while starting', () => fetch(`${base}/oauth/userinfo`, withTimeout(bearer('x'))));

        await redis.start();
        redisUp = true;
        const server = await Promise.race([starting, sleep(8000).then(() => undefined)]);
        expect(server, 'start() resolves once Redis is up').to.not.equal(undefined);
        const { tokens, user } = await tokensFor(server!.url);
        const info = await fetch(`${server!.url}/oauth/userinfo`, bearer(tokens.access_token));
        expect(info.status).to.equal(200);
        expect((await info.json()).username).to.equal(user.username);
      } finally {
        // However the test ended, let start() finish and close what it opened.
        if (!redisUp) await redis.start().catch(() => {});
        const server = await Promise.race([starting, sleep(8000).then(() => undefined)]);
        await server?.close();
      }
    });
  });
});
