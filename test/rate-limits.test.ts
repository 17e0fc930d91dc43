import { expect } from 'chai';
import { expectOAuthError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeUrl, json, registerUser, uniqueName } from './helpers/seed.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';

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

  it('the login page answers the limit with a readable 429 page', async () => {
    const user = await registerUser(server.url);
    for (let i = 0; i < 3; i++) await login(server.url, user.username, 'wrong-password', address());
    const browser = new Browser(server.url);
    const { res } = await browser.follow(authorizeUrl(server.url));
    const page = await browser.submit(await res.text(), '/login', { username: user.username, password: user.password });
    expect(page.res.status).to.equal(429);
    expect(page.res.headers.get('content-type')).to.match(/^text\/html/);
    expect(await page.res.text()).to.include('too many failed logins');
  });

  it('limits client registrations (DCR) per address, in OAuth\'s JSON', async () => {
    const ip = address();
    const register = () => fetch(`${server.url}/oauth/clients`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...ip },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    expect((await register()).status).to.equal(201);
    expect((await register()).status).to.equal(201);
    await expectTooMany(await register());
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
});
