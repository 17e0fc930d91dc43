import { expect } from 'chai';
import { useTestServer } from './helpers/server.js';
import { authorizeCode, authorizeUrl, exchangeCode, getRaw, json, loggedInBrowser, registerUser, type Tokens } from './helpers/seed.js';
import { Browser } from './helpers/browser.js';

describe('GET /oauth/authorize for client1, beyond the seed', () => {
  const server = useTestServer();

  it('prompt=consent with offline_access is granted at once for the first-party client', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const { code } = await authorizeCode(browser, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await (await exchangeCode(server.url, code)).json() as Tokens;
    expect(tokens.scope!.split(' ')).to.include.members(['openid', 'offline_access']);
    expect(tokens.refresh_token).to.be.a('string');
  });

  it('an explicit scope=openid releases no profile claims at userinfo', async () => {
    const { browser, user } = await loggedInBrowser(server.url);
    const { code } = await authorizeCode(browser, { scope: 'openid' });
    const tokens = await (await exchangeCode(server.url, code)).json() as Tokens;
    const info = await (await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json();
    expect(info).to.deep.equal({ sub: user.userId });
  });

  it('prompt=login shows the login page even to a signed-in browser', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const { res, url } = await browser.follow(authorizeUrl(server.url, { prompt: 'login' }));
    expect(url.pathname).to.match(/^\/interaction\/[\w-]+$/);
    expect(await res.text()).to.include('name="password"');
  });

  it('prompt=none without a session answers login_required at the callback', async () => {
    const { url } = await new Browser(server.url).follow(authorizeUrl(server.url, { prompt: 'none' }));
    expect(url.pathname).to.equal('/callback');
    expect(url.searchParams.get('error')).to.equal('login_required');
    expect(url.searchParams.get('state')).to.equal('random_state');
  });

  it('a session follows the user who logged in last', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const second = await registerUser(server.url);
    await browser.fetch('/oauth/login', json({ username: second.username, password: second.password }));
    const { code } = await authorizeCode(browser);
    const tokens = await (await exchangeCode(server.url, code)).json() as Tokens;
    const info = await (await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json();
    expect(info.username).to.equal(second.username);
  });
});

describe('an https issuer behind a TLS-terminating proxy', () => {
  const proxied = useTestServer({ ISSUER: 'https://auth.example.test', TRUST_PROXY: 'true' });
  let local: string;
  before(() => {
    local = `http://127.0.0.1:${(proxied.server.running.server.address() as { port: number }).port}`;
  });

  it('sets a Secure session cookie and HSTS', async () => {
    const user = await registerUser(local);
    const res = await fetch(`${local}/oauth/login`, {
      ...json({ username: user.username, password: user.password }),
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
    });
    expect(res.status).to.equal(200);
    const session = res.headers.getSetCookie().find((c) => c.startsWith('_session='));
    expect(session).to.match(/;\s*secure/i);
    expect(res.headers.get('strict-transport-security')).to.match(/max-age=\d+/);
  });

  it('publishes the issuer\'s endpoint URLs whatever Host or X-Forwarded-Host a request names', async () => {
    const cases: Record<string, string>[] = [{}, { host: 'evil.example' }, { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' }];
    for (const headers of cases) {
      const meta = JSON.parse((await getRaw(local, '/.well-known/openid-configuration', headers)).body);
      expect(meta.issuer).to.equal('https://auth.example.test');
      expect(meta.token_endpoint).to.equal('https://auth.example.test/oauth/token');
    }
  });

  it('marks the interaction cookies Secure too', async () => {
    const res = await fetch(`${local}/oauth/authorize?client_id=client1&redirect_uri=https://auth.example.test/callback&response_type=code`, { redirect: 'manual' });
    expect(res.status).to.equal(303);
    const interaction = res.headers.getSetCookie().find((c) => c.startsWith('_interaction='));
    expect(interaction).to.match(/;\s*secure/i);
  });
});
