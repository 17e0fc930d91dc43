import { expect } from 'chai';
import type { Stores } from '../../adapters/stores.js';
import { expectHtmlPage } from './assertions.js';
import { Browser } from './browser.js';
import { form, json, pkce, type Tokens } from './seed.js';

/* The /account pages as a person and as a script use them, and the first-party clients whose access they list. */

export type User = { username: string; password: string };

/** Opens /account in `browser` and signs in there; returns the account page. */
export async function signInOnAccount(browser: Browser, user: User): Promise<string> {
  const page = await browser.follow('/account');
  const signedIn = await browser.submit(await page.res.text(), '/account/sign-in', { username: user.username, password: user.password });
  expect(signedIn.url.pathname).to.equal('/account');
  return expectHtmlPage(signedIn.res, 200);
}

/** A second browser session of the user, made by the JSON login. */
export async function otherSession(origin: string, user: User): Promise<Browser> {
  const browser = new Browser(origin);
  expect((await browser.fetch('/oauth/login', json({ username: user.username, password: user.password }))).status).to.equal(200);
  return browser;
}

/** Whether /account shows `browser` its sign-in form (no session of anyone). */
export const signedOutOfAccount = async (browser: Browser) =>
  (await (await browser.fetch('/account')).text()).includes('action="/account/sign-in"');

/** GET /account as a script asks for it. */
export const accountJson = (browser: Browser) => browser.fetch('/account', { headers: { accept: 'application/json' } });

export interface AccountDocument {
  username: string;
  csrf: string;
  apps: {
    client_id: string;
    name: string;
    domain?: string;
    first_party: boolean;
    scopes: { scope: string; description: string }[];
    granted_at: string;
    last_used_at: string | null;
  }[];
}

/** The account as JSON: 200, never cached. */
export async function accountDocument(browser: Browser): Promise<AccountDocument> {
  const res = await accountJson(browser);
  const text = await res.text();
  expect(res.status, text).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  expect(res.headers.get('cache-control')).to.equal('no-store');
  return JSON.parse(text);
}

/** A JSON POST to an /account route, as a script sends it (no Sec-Fetch-Site: it is no browser). */
export const postAccountJson = (browser: Browser, path: string, body: unknown, headers: Record<string, string> = {}) =>
  browser.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** The redirect URI the command-line client listens on (any loopback port is accepted for it). */
export const CLI_REDIRECT = 'http://127.0.0.1:43123/callback';

/**
 * Tokens for /mcp of the first-party command-line client (mcp-cli, public: PKCE, no consent page), authorized in
 * `browser`, which must be signed in.
 */
export async function cliTokens(browser: Browser): Promise<Tokens> {
  const { verifier, challenge } = pkce();
  const url = new URL('/oauth/authorize', browser.origin);
  url.search = new URLSearchParams({
    client_id: 'mcp-cli', redirect_uri: CLI_REDIRECT, response_type: 'code', state: 's1', resource: `${browser.origin}/mcp`,
    code_challenge: challenge, code_challenge_method: 'S256',
  }).toString();
  const { url: landed } = await browser.follow(url.href);
  expect(landed.origin + landed.pathname, landed.href).to.equal(CLI_REDIRECT);
  const res = await fetch(`${browser.origin}/oauth/token`, form({
    grant_type: 'authorization_code', code: landed.searchParams.get('code')!, redirect_uri: CLI_REDIRECT,
    client_id: 'mcp-cli', code_verifier: verifier,
  }));
  expect(res.status, await res.clone().text()).to.equal(200);
  return res.json() as Promise<Tokens>;
}

export const refreshCli = (origin: string, refreshToken: string) =>
  fetch(`${origin}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'mcp-cli' }));

/** The server's stores, as a test server built with `options` (its wrapStores) uses them. */
export function capturedStores() {
  let captured: Stores | undefined;
  return {
    options: { wrapStores: (stores: Stores) => (captured = stores) },
    get stores(): Stores {
      if (!captured) throw new Error('capturedStores: the server has not started');
      return captured;
    },
  };
}
