import { expect } from 'chai';
import { Browser } from './helpers/browser.js';
import { useTestServer } from './helpers/server.js';
import {
  authorizeCode, authorizeUrl, basicAuth, exchangeCode, form, json, loggedInBrowser, registerUser, tokensFor, uniqueName, type Tokens,
} from './helpers/seed.js';

describe('the seed flow, verbatim', () => {
  const server = useTestServer();

  it('POST /oauth/register answers 201 {message, userId}', async () => {
    const res = await fetch(`${server.url}/oauth/register`, json({ username: uniqueName(), password: 'password123' }));
    expect(res.status).to.equal(201);
    const body = await res.json();
    expect(body).to.have.keys('message', 'userId');
    expect(body.message).to.equal('Registration successful');
    expect(body.userId).to.be.a('string').and.not.be.empty;
  });

  it('POST /oauth/login answers 200 {message} with an HttpOnly, SameSite=Lax session cookie (not Secure on http)', async () => {
    const user = await registerUser(server.url);
    const res = await fetch(`${server.url}/oauth/login`, json({ username: user.username, password: user.password }));
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ message: 'Login successful' });
    const session = res.headers.getSetCookie().find((c) => c.startsWith('_session='));
    expect(session).to.be.a('string');
    expect(session).to.match(/;\s*httponly/i).and.match(/;\s*samesite=lax/i).and.not.match(/;\s*secure/i);
    expect(res.headers.get('cache-control')).to.equal('no-store');
  });

  it('GET /oauth/authorize with the login session redirects to redirect_uri?code=…&state=…&iss=… without a consent page', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const res = await browser.fetch(authorizeUrl(server.url));
    expect(res.status).to.equal(303);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).to.equal(`${server.url}/callback`);
    expect(location.searchParams.get('code')).to.match(/^[\w-]{20,}$/);
    expect(location.searchParams.get('state')).to.equal('random_state');
    expect(location.searchParams.get('iss')).to.equal(server.url);
  });

  it('the walk-through URL without state works too', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const res = await browser.fetch(`${server.url}/oauth/authorize?client_id=client1&redirect_uri=${server.url}/callback&response_type=code`);
    expect(res.status).to.equal(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('code')).to.be.a('string');
    expect(location.searchParams.has('state')).to.equal(false);
  });

  it('POST /oauth/token (client_secret_post, as in the seed) answers {access_token, token_type: Bearer, expires_in: 3600, refresh_token}', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const { code } = await authorizeCode(browser);
    const res = await exchangeCode(server.url, code);
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const tokens = await res.json() as Tokens;
    expect(tokens.access_token).to.be.a('string').and.not.be.empty;
    expect(tokens.token_type).to.equal('Bearer');
    expect(tokens.expires_in).to.equal(3600);
    expect(tokens.refresh_token).to.be.a('string').and.not.be.empty;
  });

  it('POST /oauth/token accepts client_secret_basic too', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const { code } = await authorizeCode(browser);
    const res = await fetch(`${server.url}/oauth/token`, form(
      { grant_type: 'authorization_code', code, redirect_uri: `${server.url}/callback` },
      { authorization: basicAuth('client1', 'secret1') },
    ));
    expect(res.status).to.equal(200);
    expect((await res.json()).access_token).to.be.a('string');
  });

  it('GET /oauth/userinfo with the access token answers {id, username} (and sub = id)', async () => {
    const { user, tokens } = await tokensFor(server.url);
    const res = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.status).to.equal(200);
    const body = await res.json();
    expect(body.id).to.equal(user.userId);
    expect(body.username).to.equal(user.username);
    expect(body.sub).to.equal(user.userId);
  });

  it('the refresh_token grant issues a new access token that works at userinfo', async () => {
    const { user, tokens } = await tokensFor(server.url);
    const res = await fetch(`${server.url}/oauth/token`, form({
      grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'client1', client_secret: 'secret1',
    }));
    expect(res.status).to.equal(200);
    const refreshed = await res.json() as Tokens;
    expect(refreshed.access_token).to.be.a('string').and.not.equal(tokens.access_token);
    expect(refreshed.expires_in).to.equal(3600);
    const info = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
    expect((await info.json()).username).to.equal(user.username);
  });

  it('a code works once: the replay gets invalid_grant and the tokens issued from it stop working', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const { code } = await authorizeCode(browser);
    const first = await exchangeCode(server.url, code);
    const tokens = await first.json() as Tokens;
    const replay = await exchangeCode(server.url, code);
    expect(replay.status).to.equal(400);
    expect((await replay.json()).error).to.equal('invalid_grant');
    const info = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(info.status).to.equal(401);
    const refresh = await fetch(`${server.url}/oauth/token`, form({
      grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'client1', client_secret: 'secret1',
    }));
    expect(refresh.status).to.equal(400);
    expect((await refresh.json()).error).to.equal('invalid_grant');
  });

  it('GET /callback shows the code and state to copy, and never lets the page be cached or framed', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const { res, url } = await browser.follow(authorizeUrl(server.url));
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).to.include(`value="${url.searchParams.get('code')}"`);
    expect(html).to.include('random_state');
    expect(html).to.include('id="copy"');
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
  });

  it('a login through JSON ends the earlier session of the same browser', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const other = await registerUser(server.url);
    const before = browser.cookies.get('_session');
    await browser.fetch('/oauth/login', json({ username: other.username, password: other.password }));
    expect(browser.cookies.get('_session')).to.be.a('string').and.not.equal(before);
    const stale = new Browser(server.url);
    stale.cookies.set('_session', before!);
    stale.cookies.set('_session.sig', 'x');
    const { url } = await stale.follow(authorizeUrl(server.url));
    expect(url.pathname).to.match(/^\/interaction\//);
  });
});
