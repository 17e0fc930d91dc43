import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
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

/** A POST of exactly this body, with this Content-Type (or none at all). */
export const raw = (body: string | Uint8Array, contentType?: string): RequestInit => ({
  method: 'POST',
  headers: contentType ? { 'content-type': contentType } : {},
  body,
});

/** The Authorization header value of HTTP Basic client authentication. */
export const basicAuth = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** Posts with Transfer-Encoding: chunked (no Content-Length), on a connection of its own. */
export function postChunked(url: string, chunks: string[], contentType = 'application/json') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': contentType } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body });
        req.destroy();
      });
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/**
 * A GET through node:http, on a connection of its own: the path is sent exactly as given (fetch would normalise dot
 * segments away) and the headers too (fetch will not send a Host header of our choosing).
 */
export function getRaw(base: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(base);
  return new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    http.get({ hostname, port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    }).on('error', reject);
  });
}

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

/** A PKCE S256 verifier and its challenge (RFC 7636). */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
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
