import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Browser } from './browser.js';
import { basicAuth, form, json, pkce, uniqueName } from './seed.js';

/** A third-party MCP host, as it registers itself and asks for access: DCR, PKCE S256, resource=<issuer>/mcp. */

/** The resource server that may introspect; start the server with `RESOURCE_SERVER_ENV`. */
export const RS = { id: 'rs', secret: 'rs-secret-0123456789abcdef' };
export const RESOURCE_SERVER_ENV = { RESOURCE_SERVERS: `${RS.id}:${RS.secret}` };

export interface Host {
  clientId: string;
  name: string;
  redirectUri: string;
}

/** Registers a public client (token_endpoint_auth_method none) with a loopback redirect URI, as MCP hosts do. */
export async function registerHost(base: string, name = uniqueName('host')): Promise<Host> {
  const redirectUri = `http://127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}/cb`;
  const res = await fetch(`${base}/oauth/clients`, json({
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
    client_name: name,
  }));
  expect(res.status, await res.clone().text()).to.equal(201);
  const body = await res.json();
  return { clientId: body.client_id, name, redirectUri };
}

export interface Authorization {
  state: string;
  verifier: string;
  /** Where the browser ended: this server's login or consent page, or the host's redirect URI. */
  res: Response;
  url: URL;
}

/**
 * Sends `browser` to /oauth/authorize for `host` and follows redirects on this server. No scope: the MCP default.
 * A parameter given as undefined is left out (`resource: undefined`: a host that sends none).
 */
export async function authorize(browser: Browser, host: Host, params: Record<string, string | undefined> = {}): Promise<Authorization> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const url = new URL('/oauth/authorize', browser.origin);
  const all = {
    client_id: host.clientId,
    redirect_uri: host.redirectUri,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: `${browser.origin}/mcp`,
    state,
    ...params,
  };
  url.search = new URLSearchParams(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
  return { state, verifier, ...(await browser.follow(url.href)) };
}

/** The interaction page the authorization stopped at (login or consent), with its HTML. */
export async function interactionPage(step: { res: Response; url: URL }) {
  expect(step.url.pathname, `expected an interaction page, got ${step.url.href}`).to.match(/^\/interaction\/[^/]+$/);
  expect(step.res.status).to.equal(200);
  return { html: await step.res.text(), uid: decodeURIComponent(step.url.pathname.split('/')[2]!) };
}

/** Signs in on the login page the authorization stopped at; returns where that leads (usually the consent page). */
export async function signInThere(browser: Browser, step: { res: Response; url: URL }, user: { username: string; password: string }) {
  const { html } = await interactionPage(step);
  expect(html, 'the login page').to.include('/login"');
  return browser.submit(html, '/login', { username: user.username, password: user.password });
}

/** The redirect back to the host: its query, after checking it goes to the registered URI with the request's state. */
export function hostRedirect(step: { url: URL }, host: Host, state: string): URLSearchParams {
  // Not origin + path: a private-use scheme (cursor://...) has no origin.
  expect(step.url.href.replace(/[?#].*$/s, ''), 'the redirect to the host').to.equal(host.redirectUri);
  expect(step.url.searchParams.get('state')).to.equal(state);
  return step.url.searchParams;
}

export interface HostTokens {
  access_token: string;
  refresh_token: string;
  scope: string;
  token_type: string;
  expires_in: number;
}

/** Exchanges a code as a public client: client_id and code_verifier, no secret. */
export function exchange(base: string, host: Host, code: string, verifier: string) {
  return fetch(`${base}/oauth/token`, form({
    grant_type: 'authorization_code',
    code,
    redirect_uri: host.redirectUri,
    client_id: host.clientId,
    code_verifier: verifier,
  }));
}

export async function exchangeOk(base: string, host: Host, code: string, verifier: string): Promise<HostTokens> {
  const res = await exchange(base, host, code, verifier);
  expect(res.status, await res.clone().text()).to.equal(200);
  return res.json();
}

export function refresh(base: string, host: Host, refreshToken: string) {
  return fetch(`${base}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: host.clientId }));
}

/** What the resource server learns of a token. */
export async function introspect(base: string, token: string) {
  const res = await fetch(`${base}/oauth/introspect`, form({ token }, { authorization: basicAuth(RS.id, RS.secret) }));
  expect(res.status).to.equal(200);
  return res.json();
}

/**
 * A user connects `host` from start to finish in `browser`: signs in when asked, presses Allow when asked,
 * exchanges the code. Returns the tokens and the consent page, if one was shown.
 */
export async function connect(browser: Browser, host: Host, user: { username: string; password: string }, params: Record<string, string | undefined> = {}) {
  const { state, verifier, ...start } = await authorize(browser, host, params);
  const { step, consentPage } = await signInAndAllow(browser, start, user);
  const code = hostRedirect(step, host, state).get('code');
  expect(code, 'a code').to.be.a('string');
  return { tokens: await exchangeOk(browser.origin, host, code!, verifier), consentPage };
}

/**
 * The user's part of an authorization, from where `browser` stopped on this server: signs in when asked, presses
 * Allow when asked. Returns the step that leaves this server (the redirect to the host) and the consent page, if
 * one was shown.
 */
export async function signInAndAllow(browser: Browser, start: { res: Response; url: URL }, user: { username: string; password: string }) {
  let step = start;
  let consentPage: string | undefined;
  // At most a login page, then a consent page; then the redirect to the host.
  for (let pages = 0; pages < 2 && step.url.origin === browser.origin; pages++) {
    const { html } = await interactionPage(step);
    if (/action="[^"]*\/login"/.test(html)) {
      step = await browser.submit(html, '/login', { username: user.username, password: user.password });
    } else {
      consentPage = html;
      step = await browser.submit(html, '/consent', {});
    }
  }
  return { step, consentPage };
}

/**
 * The test's own little internet for the server's outbound fetch: `documents` (Client ID Metadata Documents, key
 * sets) served as JSON by URL, without a network; anything else is a 404.
 */
export function servedDocuments(documents: ReadonlyMap<string, unknown>): typeof fetch {
  return async (input) => {
    const doc = documents.get(String(input));
    return doc === undefined
      ? new Response('not found', { status: 404 })
      : new Response(JSON.stringify(doc), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}
