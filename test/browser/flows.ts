import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { authorizeUrl, json, pkce } from '../helpers/seed.js';
import type { Host } from '../helpers/third-party.js';

/** What a person does in the browser pages, and the third-party app on the other end of a redirect. */

/** Fills the login page's fields and presses Sign in. */
export async function signInOnPage(page: Page, user: { username: string; password: string }) {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export interface LoopbackApp {
  /** The registered client, its redirect URI on this app. */
  host: Host;
  /** The query of every request that reached the redirect URI, in order. */
  redirects: URLSearchParams[];
  close(): Promise<void>;
}

/**
 * A native app as MCP hosts are: a tiny HTTP server on 127.0.0.1 that receives the authorization response,
 * registered by Dynamic Client Registration as a public client with that loopback redirect URI.
 */
export async function startLoopbackApp(issuer: string, name: string): Promise<LoopbackApp> {
  const redirects: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/cb') redirects.push(url.searchParams);
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
