import { expect } from 'chai';
import { Browser } from './browser.js';

/** The seed's requests, as a client of the server would make them. */

export const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});

let counter = 0;
export const uniqueName = (prefix = 'user') => `${prefix}${process.pid}x${++counter}`;

export async function registerUser(base: string, username = uniqueName(), password = 'password123') {
  const res = await fetch(`${base}/oauth/register`, json({ username, password }));
  expect(res.status).to.equal(201);
  const body = await res.json() as { userId: string };
  return { username, password, userId: body.userId };
}

/** Registers and logs in through the JSON endpoints: the returned browser holds the session cookie. */
export async function loggedInBrowser(base: string) {
  const user = await registerUser(base);
  const browser = new Browser(base);
  const res = await browser.fetch('/oauth/login', json({ username: user.username, password: user.password }));
  expect(res.status).to.equal(200);
  return { browser, user };
}

export function authorizeUrl(base: string, params: Record<string, string> = {}) {
  const url = new URL('/oauth/authorize', base);
  url.search = new URLSearchParams({
    client_id: 'client1',
    redirect_uri: `${base}/callback`,
    response_type: 'code',
    state: 'random_state',
    ...params,
  }).toString();
  return url.href;
}

/** GET /oauth/authorize with a signed-in browser, following the redirect chain to client1's callback. */
export async function authorizeCode(browser: Browser, params: Record<string, string> = {}) {
  const { url } = await browser.follow(authorizeUrl(browser.origin, params));
  expect(url.pathname).to.equal('/callback');
  const code = url.searchParams.get('code');
  expect(code, `no code in ${url.href}`).to.be.a('string');
  return { code: code!, url };
}

export async function exchangeCode(base: string, code: string, extra: Record<string, string> = {}) {
  return fetch(`${base}/oauth/token`, form({
    grant_type: 'authorization_code',
    code,
    redirect_uri: `${base}/callback`,
    client_id: 'client1',
    client_secret: 'secret1',
    ...extra,
  }));
}

export interface Tokens {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  id_token?: string;
  scope?: string;
}

export async function tokensFor(base: string) {
  const { browser, user } = await loggedInBrowser(base);
  const { code } = await authorizeCode(browser);
  const res = await exchangeCode(base, code);
  expect(res.status).to.equal(200);
  return { browser, user, tokens: await res.json() as Tokens };
}
