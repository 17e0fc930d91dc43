import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { authorizeUrl, json, pkce, uniqueName } from '../helpers/seed.js';
import type { UsedTestServer } from '../helpers/server.js';
import type { Host } from '../helpers/third-party.js';
import { initialFocus } from './page-checks.js';

/** What a person does in the browser pages, and the third-party app on the other end of a redirect. */

/**
 * A control as the accessibility tree names it, role then accessible name: `button "Allow"`, `textbox "Code"`.
 * Tests name what they expect to have the focus this way, so a control found by Tab is the one a screen reader
 * announces, not merely an element with a matching id.
 */
export type ControlName = `${string} "${string}"`;

/** Fails unless `control` has the focus, naming what has it instead. */
export async function expectFocus(page: Page, control: ControlName) {
  const [, role, name] = /^(\w+) "(.*)"$/.exec(control)!;
  const target = page.getByRole(role as Parameters<Page['getByRole']>[0], { name, exact: true });
  if (await target.and(page.locator(':focus')).count() === 1) return;
  const focus = page.locator(':focus');
  const actual = await focus.count() ? (await focus.ariaSnapshot()).split('\n')[0]!.replace(/^- /, '') : 'nothing';
  throw new Error(`expected the focus on ${control} at ${new URL(page.url()).pathname}, but it is on ${actual}`);
}

/** Presses Tab once for each control, expecting the focus on each in turn. */
export async function tabThrough(page: Page, controls: ControlName[]) {
  for (const control of controls) {
    await page.keyboard.press('Tab');
    await expectFocus(page, control);
  }
}

/** Uses `control`, which must have the focus, with Enter or Space, as a keyboard user does. */
export async function activate(page: Page, control: ControlName, key: 'Enter' | 'Space' = 'Enter') {
  await expectFocus(page, control);
  await page.keyboard.press(key);
}

/**
 * Signs in on the login page (the consent flow's, or the connected-apps page's own) with the keyboard alone: the
 * page puts the focus on Username, then typing, Tab, typing and Enter.
 */
export async function signInOnPage(page: Page, user: { username: string; password: string }) {
  // Called while a redirect or a form post may still be on its way to the login page.
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await initialFocus(page);
  await expectFocus(page, 'textbox "Username"');
  await page.keyboard.type(user.username);
  await tabThrough(page, ['textbox "Password"']);
  await page.keyboard.type(user.password);
  await page.keyboard.press('Enter');
}

/**
 * Creates an account on a registration page (a sign-in's, or /signup) with the keyboard alone: the page puts the focus
 * on Username; typing and Tab through both passwords, then `key` on Create account. Returns the new user.
 */
export async function registerOnPage(page: Page, username: string, key: 'Enter' | 'Space' = 'Enter') {
  const password = 'a long enough password';
  await expectFocus(page, 'textbox "Username"');
  await page.keyboard.type(username);
  await tabThrough(page, ['textbox "Password"']);
  await page.keyboard.type(password);
  await tabThrough(page, ['textbox "Repeat the password"']);
  await page.keyboard.type(password);
  await tabThrough(page, ['button "Create account"']);
  await activate(page, 'button "Create account"', key);
  return { username, password };
}

export interface LoopbackApp {
  /** The registered client, its redirect URI on this app. */
  host: Host;
  /** What every request that reached the redirect URI carried, in order: its query, or the form it posted (form_post). */
  redirects: URLSearchParams[];
  close(): Promise<void>;
}

/**
 * A native app as MCP hosts are: a tiny HTTP server on 127.0.0.1 that receives the authorization response,
 * registered by Dynamic Client Registration as a public client with that loopback redirect URI.
 */
export async function startLoopbackApp(issuer: string, name: string): Promise<LoopbackApp> {
  const redirects: URLSearchParams[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/cb') {
      let body = '';
      for await (const chunk of req) body += chunk;
      redirects.push(req.method === 'POST' ? new URLSearchParams(body) : url.searchParams);
    }
    // Anything else is the browser's favicon request; a page of our own keeps the console free of 404s.
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><html lang="en"><title>Back in the app</title><p>You can close this window.</p></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`;

  const registration = await fetch(`${issuer}/oauth/clients`, json({
    client_name: name,
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
  }));
  const client = await registration.json();
  expect(registration.status, JSON.stringify(client)).to.equal(201);
  return {
    host: { clientId: client.client_id, name, redirectUri },
    redirects,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * A fresh LoopbackApp for each test of the enclosing `describe`, closed after it: read `app` from tests and hooks
 * registered after this call; `reached(page)` waits until the browser is back at the app.
 */
export function useLoopbackApp(server: UsedTestServer) {
  let current: LoopbackApp | undefined;
  const app = () => {
    if (!current) throw new Error('useLoopbackApp: no app outside a test');
    return current;
  };
  beforeEach(async () => {
    current = await startLoopbackApp(server.url, uniqueName('Notes app '));
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    get app() {
      return app();
    },
    reached: (page: Page) => page.waitForURL((url) => url.href.startsWith(app().host.redirectUri)),
  };
}

/** The app's authorization request for the MCP resource, with PKCE S256 as public clients must. */
export function appAuthorization(issuer: string, host: Host) {
  const { verifier, challenge } = pkce();
  const state = `state-${challenge.slice(0, 8)}`;
  const url = authorizeUrl(issuer, {
    client_id: host.clientId,
    redirect_uri: host.redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: `${issuer}/mcp`,
    state,
  });
  return { url, state, verifier };
}
