import { expect } from 'chai';
import { expectHtmlPage, expectOAuthError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { Redis } from 'ioredis';
import { StorageUnavailable } from '../adapters/errors.js';
import { redisLimiters } from '../adapters/limiter.js';
import { createRedisClient } from '../adapters/redis/client.js';
import { OwnRedis, requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeCode, authorizeUrl, basicAuth, exchangeCode, form, json, loggedInBrowser, registerUser, uniqueName } from './helpers/seed.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';
import { networkKey } from '../src/http/client-network.js';
import { RESOURCE_SERVER_ENV, RS } from './helpers/third-party.js';

const login = (base: string, username: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/oauth/login`, { ...json({ username, password }), headers: { 'content-type': 'application/json', ...headers } });

async function expectTooMany(res: Response) {
  const body = await expectOAuthError(res, 429, 'too_many_requests');
  expect(Number(res.headers.get('retry-after'))).to.be.within(1, 3600);
  return body;
}

describe('brute-force and abuse limits', () => {
  const server = useTestServer({
    LIMIT_LOGIN_FAILURES_PER_USERNAME: '3',
    LIMIT_LOGIN_FAILURES_PER_IP: '6',
    LIMIT_REGISTRATIONS_PER_IP: '0',
    LIMIT_CLIENT_REGISTRATIONS_PER_IP: '2',
    TRUST_PROXY: 'true',
  });
  let from = 0;
  /** A fresh client address per test (TRUST_PROXY is on here), so the tests' per-IP counts do not mix. */
  const address = () => ({ 'x-forwarded-for': `203.0.113.${++from}` });

  it('locks a username after its failed logins, even for the right password, and says when to try again', async () => {
    const user = await registerUser(server.url);
    const ip = address();
    for (let i = 0; i < 3; i++) expect((await login(server.url, user.username, 'wrong-password', ip)).status).to.equal(401);
    const body = await expectTooMany(await login(server.url, user.username, user.password, ip));
    expect(body.error_description).to.match(/too many failed logins; try again in \d+ seconds/);
    // From another address too: the count is the username's.
    await expectTooMany(await login(server.url, user.username.toUpperCase(), user.password, address()));
  });

  it('limits one address trying many usernames, and a correct password does not reset its count', async () => {
    const ip = address();
    const mine = await registerUser(server.url);
    for (let i = 0; i < 3; i++) await login(server.url, uniqueName('nobody'), 'guess', ip);
    expect((await login(server.url, mine.username, mine.password, ip)).status).to.equal(200);
    for (let i = 0; i < 3; i++) await login(server.url, uniqueName('nobody'), 'guess', ip);
    await expectTooMany(await login(server.url, mine.username, mine.password, ip));
    expect((await login(server.url, mine.username, mine.password, address())).status).to.equal(200);
  });

  it('counts a burst of concurrent guesses as they start: no more than the limit get their password checked', async () => {
    const user = await registerUser(server.url);
    const burst = await Promise.all(Array.from({ length: 12 }, () => login(server.url, user.username, 'wrong-password', address())));
    expect(burst.map((res) => res.status).sort()).to.deep.equal([...Array(3).fill(401), ...Array(9).fill(429)]);
  });

  it('takes the address the proxy appended to X-Forwarded-For, not one the client wrote in front of it', async () => {
    const proxy = address()['x-forwarded-for'];
    for (let i = 0; i < 6; i++) {
      expect((await login(server.url, uniqueName('nobody'), 'guess', { 'x-forwarded-for': `192.0.2.${i}, ${proxy}` })).status).to.equal(401);
    }
    await expectTooMany(await login(server.url, uniqueName('nobody'), 'guess', { 'x-forwarded-for': `192.0.2.99, ${proxy}` }));
  });

  it('the login page answers the limit with a readable 429 page', async () => {
    const user = await registerUser(server.url);
    for (let i = 0; i < 3; i++) await login(server.url, user.username, 'wrong-password', address());
    const browser = new Browser(server.url);
    const { res } = await browser.follow(authorizeUrl(server.url));
    const page = await browser.submit(await res.text(), '/login', { username: user.username, password: user.password });
    expect(page.res.status).to.equal(429);
    expect(Number(page.res.headers.get('retry-after'))).to.be.within(1, 900);
    expect(page.res.headers.get('content-type')).to.match(/^text\/html/);
    expect(await page.res.text()).to.include('too many failed logins');
  });

  it('the connected-apps sign-in answers the limit with a readable 429 page', async () => {
    const user = await registerUser(server.url);
    for (let i = 0; i < 3; i++) await login(server.url, user.username, 'wrong-password', address());
    const browser = new Browser(server.url);
    const page = await browser.follow('/account');
    const signIn = await browser.submit(await page.res.text(), '/account/sign-in', { username: user.username, password: user.password });
    expect(signIn.res.status).to.equal(429);
    expect(Number(signIn.res.headers.get('retry-after'))).to.be.within(1, 900);
    expect(await signIn.res.text()).to.include('too many failed logins');
  });

  describe('client registrations (DCR)', () => {
    const register = (ip: Record<string, string>, path = '/oauth/clients', body: unknown = { redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...ip }, body: JSON.stringify(body) });
    /** Spellings of the registration endpoint that the provider's router takes too (no regard to case, one trailing slash). */
    const spellings = ['/oauth/clients/', '/OAUTH/clients', '/Oauth/Clients/', '/oauth/CLIENTS?x=1'];

    it('are limited per address, in OAuth\'s JSON', async () => {
      const ip = address();
      expect((await register(ip)).status).to.equal(201);
      expect((await register(ip)).status).to.equal(201);
      const body = await expectTooMany(await register(ip));
      expect(body.error_description).to.match(/too many client registrations/);
    });

    it('count whichever spelling of the path the provider registers them at, and refuse every spelling once over', async () => {
      const ip = address();
      expect((await register(ip, spellings[0])).status).to.equal(201);
      expect((await register(ip, spellings[1])).status).to.equal(201);
      for (const path of ['/oauth/clients', ...spellings]) await expectTooMany(await register(ip, path));
      // A path the provider does not route registers nothing: a 404, and no count.
      expect((await register(address(), '/oauth//clients')).status).to.equal(404);
    });

    it('do not count registrations the provider refuses', async () => {
      const ip = address();
      for (let i = 0; i < 3; i++) expect((await register(ip, '/oauth/clients', { redirect_uris: 'not-a-list' })).status).to.equal(400);
      expect((await register(ip)).status).to.equal(201);
    });
  });

  it('counts an IPv6 address as its /64, which one host can roam freely', async () => {
    const user = await registerUser(server.url);
    const net = ++from;
    for (let i = 1; i <= 6; i++) await login(server.url, uniqueName('nobody'), 'guess', { 'x-forwarded-for': `2001:db8:${net}::${i}` });
    await expectTooMany(await login(server.url, user.username, user.password, { 'x-forwarded-for': `2001:db8:${net}:0:ffff::9` }));
    expect((await login(server.url, user.username, user.password, { 'x-forwarded-for': `2001:db8:${net}:1::1` })).status).to.equal(200);
  });

  it('reports each refusal in /metrics, by limit', async () => {
    const refusals = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^abuse_limit_refusals_total\{limit="login"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await refusals();
    const user = await registerUser(server.url);
    for (let i = 0; i < 3; i++) await login(server.url, user.username, 'wrong-password', address());
    await expectTooMany(await login(server.url, user.username, user.password, address()));
    await expectTooMany(await login(server.url, user.username, user.password, address()));
    expect(await refusals()).to.equal(before + 2);
  });
});

describe('the network a client address counts as', () => {
  for (const [ip, key] of [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:db8:1::192.0.2.1', '2001:db8:1:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['::ffff:c000:207', '192.0.2.7'],
    ['::ffff:0:192.0.2.7', '192.0.2.7'],
    ['203.0.113.7:4711', '203.0.113.7'],
    ['[2001:db8:1:2::9]:4711', '2001:db8:1:2::/64'],
    ['[2001:db8:1:2::9]', '2001:db8:1:2::/64'],
    ['unknown', 'unknown'],
  ]) {
    it(`${ip} → ${key}`, () => expect(networkKey(ip!)).to.equal(key));
  }
});

describe('failed client requests at the token, introspection and revocation endpoints', () => {
  const server = useTestServer({ LIMIT_TOKEN_ERRORS_PER_CLIENT_AND_IP: '3', TRUST_PROXY: 'true', ...RESOURCE_SERVER_ENV });
  let from = 0;
  const address = () => ({ 'x-forwarded-for': `198.51.100.${++from}` });
  const token = (fields: Record<string, string>, headers: Record<string, string>) => fetch(`${server.url}/oauth/token`, form(fields, headers));
  const wrongSecret = (ip: Record<string, string>) => token({
    grant_type: 'authorization_code', code: 'guess', redirect_uri: `${server.url}/callback`, client_id: 'client1', client_secret: 'guess',
  }, ip);
  const cliGuess = (ip: Record<string, string>) => token({ grant_type: 'refresh_token', refresh_token: 'guess', client_id: 'mcp-cli' }, ip);
  const freshCode = async () => (await authorizeCode((await loggedInBrowser(server.url)).browser)).code;

  it('wrong client secrets lock that address out of the client, before the secret is checked; other addresses go on', async () => {
    const ip = address();
    expect((await wrongSecret(ip)).status).to.equal(401);
    // The same count whatever the form of the answer or of the client authentication.
    expect((await wrongSecret({ ...ip, accept: 'text/html' })).status).to.equal(401);
    const basic = await token({ grant_type: 'refresh_token', refresh_token: 'guess' }, { ...ip, authorization: basicAuth('client1', 'guess') });
    await expectOAuthError(basic, 401, 'invalid_client');

    const code = await freshCode();
    const refused = await fetch(`${server.url}/oauth/token`, { ...form({
      grant_type: 'authorization_code', code, redirect_uri: `${server.url}/callback`, client_id: 'client1', client_secret: 'secret1',
    }, ip) });
    const body = await expectTooMany(refused);
    expect(body.error_description).to.match(/too many failed requests for this client from this address; try again in \d+ seconds/);
    expect(refused.headers.get('cache-control')).to.equal('no-store');
    // Refused before anything was checked or spent: the code still works, from an address in good standing.
    const res = await exchangeCode(server.url, code, {});
    expect(res.status).to.equal(200);
  });

  it('counts a burst of concurrent guesses as they start: no more than the limit are checked', async () => {
    const ip = address();
    const burst = await Promise.all(Array.from({ length: 12 }, () => wrongSecret(ip)));
    expect(burst.map((res) => res.status).sort()).to.deep.equal([...Array(3).fill(401), ...Array(9).fill(429)]);
  });

  it('lets browser-based clients read Retry-After', async () => {
    const ip = { ...address(), origin: 'https://host.example' };
    for (let i = 0; i < 3; i++) await wrongSecret(ip);
    const res = await wrongSecret(ip);
    expect(res.status).to.equal(429);
    expect(res.headers.get('access-control-expose-headers')?.split(/,\s*/)).to.include('Retry-After');
  });

  it('a refused address gets 429 for the right secret too, whichever way the client authenticates', async () => {
    const ip = address();
    for (let i = 0; i < 3; i++) await wrongSecret(ip);
    await expectTooMany(await wrongSecret(ip));
    await expectTooMany(await token({ grant_type: 'refresh_token', refresh_token: 'x' }, { ...ip, authorization: basicAuth('client1', 'secret1') }));
  });

  it('guessed refresh tokens and codes count for a public client, per address', async () => {
    const ip = address();
    for (let i = 0; i < 3; i++) await expectOAuthError(await cliGuess(ip), 400, 'invalid_grant');
    await expectTooMany(await cliGuess(ip));
    await expectOAuthError(await cliGuess(address()), 400, 'invalid_grant');
    // The count is this client's: the address may still use another one.
    await expectOAuthError(await wrongSecret(ip), 401, 'invalid_client');
  });

  it('an authenticated confidential client\'s own invalid_grant errors do not count', async () => {
    const ip = address();
    for (let i = 0; i < 5; i++) {
      await expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: 'expired', client_id: 'client1', client_secret: 'secret1' }, ip), 400, 'invalid_grant');
    }
    const code = await freshCode();
    expect((await fetch(`${server.url}/oauth/token`, form({
      grant_type: 'authorization_code', code, redirect_uri: `${server.url}/callback`, client_id: 'client1', client_secret: 'secret1',
    }, ip))).status).to.equal(200);
  });

  it('device-flow polling (authorization_pending, slow_down) is the protocol working, not guessing', async () => {
    const ip = address();
    const started = await fetch(`${server.url}/oauth/device/auth`, form({ client_id: 'mcp-cli' }, ip));
    const { device_code: deviceCode } = await started.json() as { device_code: string };
    for (let i = 0; i < 5; i++) {
      const res = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: 'mcp-cli' }, ip);
      expect(res.status).to.equal(400);
      expect((await res.json()).error).to.be.oneOf(['authorization_pending', 'slow_down']);
    }
  });

  it('introspection and revocation count the same failures as the token endpoint', async () => {
    const ip = address();
    const introspect = (secret: string) => fetch(`${server.url}/oauth/introspect`, form({ token: 'x' }, { ...ip, authorization: basicAuth(RS.id, secret) }));
    const revoke = (secret: string) => fetch(`${server.url}/oauth/revoke`, form({ token: 'x' }, { ...ip, authorization: basicAuth(RS.id, secret) }));
    await expectOAuthError(await introspect('guess'), 401, 'invalid_client');
    await expectOAuthError(await revoke('guess'), 401, 'invalid_client');
    await expectOAuthError(await introspect('guess'), 401, 'invalid_client');
    await expectTooMany(await introspect(RS.secret));
    await expectTooMany(await revoke(RS.secret));
    expect((await fetch(`${server.url}/oauth/introspect`, form({ token: 'x' }, { ...address(), authorization: basicAuth(RS.id, RS.secret) }))).status).to.equal(200);
  });

  it('pushed authorization requests and device authorization count wrong secrets too', async () => {
    const ip = address();
    const par = (secret: string, from = ip) => fetch(`${server.url}/oauth/par`, form({
      response_type: 'code', redirect_uri: `${server.url}/callback`, scope: 'openid', client_id: 'client1', client_secret: secret,
    }, from));
    await expectOAuthError(await par('guess'), 401, 'invalid_client');
    await expectOAuthError(await fetch(`${server.url}/oauth/device/auth`, form({ client_id: 'client1', client_secret: 'guess' }, ip)), 401, 'invalid_client');
    await expectOAuthError(await par('guess'), 401, 'invalid_client');
    await expectTooMany(await par('secret1'));
    expect((await par('secret1', address())).status).to.equal(201);
  });

  it('an unknown client id is not counted or refused: it is invalid_client each time', async () => {
    const ip = address();
    for (let i = 0; i < 5; i++) {
      await expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nobody', client_secret: 'guess' }, ip), 401, 'invalid_client');
    }
  });
});

describe('wrong user codes on the device page (RFC 8628 §5.1)', () => {
  const server = useTestServer({ LIMIT_DEVICE_CODE_FAILURES_PER_IP: '3', TRUST_PROXY: 'true' });
  let from = 0;
  const address = () => ({ 'x-forwarded-for': `192.0.2.${++from}` });
  const WRONG = 'BCDF-GHJK';

  const userCode = async () => {
    const res = await fetch(`${server.url}/oauth/device/auth`, form({ client_id: 'mcp-cli' }));
    expect(res.status).to.equal(200);
    return (await res.json()).user_code as string;
  };

  /** A browser at the address `ip`: enter(code) opens the code page and submits the code. */
  function codePage(ip: Record<string, string>) {
    const browser = new Browser(server.url);
    return async (code: string) => {
      const page = await (await browser.fetch('/oauth/device', { headers: ip })).text();
      return (await browser.submit(page, '/oauth/device', { user_code: code }, ip)).res;
    };
  }

  const expectNotFound = async (res: Response) => expect(await expectHtmlPage(res, 400)).to.include('That code is not right');
  const expectConfirm = async (res: Response) => expect(await expectHtmlPage(res, 200)).to.include('op.deviceConfirmForm');

  async function expectRefused(res: Response) {
    const html = await expectHtmlPage(res, 429);
    expect(html).to.include('Error code: <code>too_many_requests</code>');
    expect(Number(res.headers.get('retry-after'))).to.be.within(1, 900);
    expect(html).to.include('too many wrong codes from this address; try again in');
    expect(html, 'no form until the wait is over').to.not.include('name="user_code"');
  }

  it('wrong codes up to the limit get the "not right" page; then 429 with Retry-After, the right code included', async () => {
    const code = await userCode();
    const enter = codePage(address());
    for (let i = 0; i < 3; i++) await expectNotFound(await enter(WRONG));
    await expectRefused(await enter(code));
    await expectRefused(await enter(WRONG));
  });

  it('counts per address: another one still enters the right code', async () => {
    const code = await userCode();
    const enter = codePage(address());
    for (let i = 0; i < 3; i++) await expectNotFound(await enter(WRONG));
    await expectConfirm(await codePage(address())(code));
  });

  it('takes the address the proxy appended to X-Forwarded-For, not one the client wrote in front of it', async () => {
    const proxy = address()['x-forwarded-for'];
    for (let i = 0; i < 3; i++) {
      await expectNotFound(await codePage({ 'x-forwarded-for': `198.18.0.${i}, ${proxy}` })(WRONG));
    }
    await expectRefused(await codePage({ 'x-forwarded-for': `198.18.0.99, ${proxy}` })(await userCode()));
  });

  it('a code that exists is given back: entering it any number of times uses none of the wrong tries', async () => {
    const code = await userCode();
    const enter = codePage(address());
    for (let i = 0; i < 5; i++) await expectConfirm(await enter(code));
    for (let i = 0; i < 3; i++) await expectNotFound(await enter(WRONG));
    await expectRefused(await enter(code));
  });

  it('counts a burst of concurrent guesses as they start: no more than the limit are looked up', async () => {
    const ip = address();
    const pages = Array.from({ length: 8 }, () => codePage(ip));
    const answers = await Promise.all(pages.map((enter) => enter(WRONG)));
    expect(answers.map((res) => res.status).sort()).to.deep.equal([...Array(3).fill(400), ...Array(5).fill(429)]);
  });

  it('reports each refusal in /metrics as device_code', async () => {
    const refusals = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^abuse_limit_refusals_total\{limit="device_code"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await refusals();
    const enter = codePage(address());
    for (let i = 0; i < 3; i++) await enter(WRONG);
    await expectRefused(await enter(WRONG));
    expect(await refusals()).to.equal(before + 1);
  });
});

describe('wrong user codes with the limit off (LIMIT_DEVICE_CODE_FAILURES_PER_IP=0)', () => {
  const server = useTestServer({ LIMIT_DEVICE_CODE_FAILURES_PER_IP: '0' });

  it('are never refused', async () => {
    const browser = new Browser(server.url);
    let page = await (await browser.fetch('/oauth/device')).text();
    for (let i = 0; i < 25; i++) {
      const { res } = await browser.submit(page, '/oauth/device', { user_code: 'BCDF-GHJK' });
      page = await expectHtmlPage(res, 400);
    }
  });
});

describe('registration limits', () => {
  const server = useTestServer({ LIMIT_REGISTRATIONS_PER_IP: '2' });

  it('limits sign-ups per address', async () => {
    expect((await fetch(`${server.url}/oauth/register`, json({ username: uniqueName(), password: 'password123' }))).status).to.equal(201);
    expect((await fetch(`${server.url}/oauth/register`, json({ username: uniqueName(), password: 'password123' }))).status).to.equal(201);
    await expectTooMany(await fetch(`${server.url}/oauth/register`, json({ username: uniqueName(), password: 'password123' })));
  });

  it('without TRUST_PROXY, X-Forwarded-For does not give an attacker a fresh address', async () => {
    const res = await fetch(`${server.url}/oauth/register`, {
      ...json({ username: uniqueName(), password: 'password123' }),
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' },
    });
    await expectTooMany(res);
  });
});

describe('the registration page under its limit', () => {
  const server = useTestServer({ LIMIT_REGISTRATIONS_PER_IP: '1' });

  it('answers a readable 429 page once the address has registered its share', async () => {
    expect((await fetch(`${server.url}/oauth/register`, json({ username: uniqueName(), password: 'password123' }))).status).to.equal(201);
    const browser = new Browser(server.url);
    const { url } = await browser.follow(authorizeUrl(server.url));
    const page = await browser.fetch(`${url.pathname}/register`);
    const password = 'a long enough password';
    const { res } = await browser.submit(await page.text(), '/register', { username: uniqueName('page'), password, confirm: password });
    expect(res.status).to.equal(429);
    expect(Number(res.headers.get('retry-after'))).to.be.within(1, 3600);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    expect(await res.text()).to.include('too many registrations');
  });
});

describe('limits on Redis hold across instances', () => {
  const redis = requireRedis();
  const servers: TestServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  it('failed logins on one instance count on the other', async () => {
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix(), LIMIT_LOGIN_FAILURES_PER_USERNAME: '2' };
    servers.push(await startTestServer(env), await startTestServer(env));
    const [a, b] = servers as [TestServer, TestServer];
    const user = await registerUser(a.url);
    expect((await login(a.url, user.username, 'wrong-1')).status).to.equal(401);
    expect((await login(b.url, user.username, 'wrong-2')).status).to.equal(401);
    await expectTooMany(await login(a.url, user.username, user.password));
    await expectTooMany(await login(b.url, user.username, user.password));
  });

  it('a burst of concurrent guesses spread over two instances gets no more checks than the limit', async () => {
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix(), LIMIT_TOKEN_ERRORS_PER_CLIENT_AND_IP: '3', LIMIT_LOGIN_FAILURES_PER_USERNAME: '3' };
    servers.push(await startTestServer(env), await startTestServer(env));
    const [a, b] = servers.slice(-2) as [TestServer, TestServer];
    const guess = (base: string) => fetch(`${base}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: 'guess', client_id: 'mcp-cli' }));
    const guesses = await Promise.all(Array.from({ length: 40 }, (_, i) => guess(i % 2 ? a.url : b.url)));
    expect(guesses.filter((res) => res.status === 400)).to.have.length(3);
    expect(guesses.filter((res) => res.status === 429)).to.have.length(37);

    const user = await registerUser(a.url);
    const logins = await Promise.all(Array.from({ length: 20 }, (_, i) => login(i % 2 ? a.url : b.url, user.username, 'wrong-password')));
    expect(logins.filter((res) => res.status === 401)).to.have.length(3);
  });

  it('a stall of Redis leaves no count too high: an attempt whose count timed out is given back once Redis answers', async function () {
    this.timeout(20000);
    const own = await OwnRedis.launch();
    const client = createRedisClient({ kind: 'standalone', url: own.url });
    try {
      await client.connect();
      const limiter = redisLimiters(client, uniquePrefix())('stall', 3, 900);
      expect(await limiter.take('k')).to.equal(0);
      own.freeze();
      const failed = await limiter.take('k').then(() => undefined, (err: unknown) => err);
      own.thaw();
      expect(failed, 'the take during the stall fails (a 503 for its request)').to.be.instanceOf(StorageUnavailable);
      // Redis runs the timed-out count when it wakes; the give-back follows within a retry (2 s).
      await new Promise((r) => setTimeout(r, 3000));
      expect([await limiter.take('k'), await limiter.take('k')]).to.deep.equal([0, 0]);
      expect(await limiter.take('k')).to.be.above(0);
    } finally {
      own.thaw();
      client.disconnect();
      await own.stop();
    }
  });

  it('counts refused while Redis is down are not given back when it returns: the count is not left too low', async function () {
    this.timeout(20000);
    const own = await OwnRedis.launch();
    const client = createRedisClient({ kind: 'standalone', url: own.url });
    try {
      await client.connect();
      const limiter = redisLimiters(client, uniquePrefix())('down', 3, 900);
      await own.stop();
      for (let i = 0; i < 5; i++) expect(await limiter.take('k').then(() => 'counted', () => 'failed')).to.equal('failed');
      await own.start();
      // Long enough for the client to reconnect and for give-backs, had any been scheduled, to land.
      await new Promise((r) => setTimeout(r, 4500));
      expect([await limiter.take('k'), await limiter.take('k'), await limiter.take('k')]).to.deep.equal([0, 0, 0]);
      expect(await limiter.take('k')).to.be.above(0);
    } finally {
      client.disconnect();
      await own.stop();
    }
  });

  it('an address over its login limit leaves no counter behind for the usernames it makes up', async () => {
    const prefix = uniquePrefix();
    const server = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, LIMIT_LOGIN_FAILURES_PER_IP: '2', LIMIT_LOGIN_FAILURES_PER_USERNAME: '5' });
    servers.push(server);
    for (let i = 0; i < 12; i++) await login(server.url, uniqueName('made-up'), 'guess');
    const client = new Redis(redis.url);
    try {
      expect(await client.keys(`${prefix}limit:login-user:*`)).to.have.length(2);
    } finally {
      client.disconnect();
    }
  });

  it('failed client requests on one instance count on the other', async () => {
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix(), LIMIT_TOKEN_ERRORS_PER_CLIENT_AND_IP: '2' };
    servers.push(await startTestServer(env), await startTestServer(env));
    const [a, b] = servers.slice(-2) as [TestServer, TestServer];
    const guess = (base: string) => fetch(`${base}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: 'guess', client_id: 'mcp-cli' }));
    await expectOAuthError(await guess(a.url), 400, 'invalid_grant');
    await expectOAuthError(await guess(b.url), 400, 'invalid_grant');
    await expectTooMany(await guess(a.url));
    await expectTooMany(await guess(b.url));
  });
});
