import { expect } from 'chai';

/** What a stack trace leaking into a response body looks like. */
export const STACK_TRACE = /\n\s+at\s|node_modules|\.[cm]?[jt]s:\d+/;

export interface OAuthError {
  error: string;
  error_description: string;
}

/**
 * An error in OAuth's JSON shape: the status, a JSON content type, never cached, exactly {error, error_description}
 * with the expected code and a non-empty description, and no stack trace.
 */
export async function expectOAuthError(res: Response, status: number, error: string): Promise<OAuthError> {
  const text = await res.text();
  expect(res.status, text).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  expect(res.headers.get('cache-control')).to.equal('no-store');
  expect(text).not.to.match(STACK_TRACE);
  const body = JSON.parse(text) as OAuthError;
  expect(body).to.have.all.keys('error', 'error_description');
  expect(body.error).to.equal(error);
  expect(body.error_description).to.be.a('string').and.not.be.empty;
  return body;
}

/** An HTML page answered in place: the status, text/html, no redirect, never cached, a full document, no stack trace. */
export async function expectHtmlPage(res: Response, status: number): Promise<string> {
  const html = await res.text();
  expect(res.status, html).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^text\/html/);
  expect(res.headers.get('location'), 'Location header').to.equal(null);
  expect(res.headers.get('cache-control')).to.equal('no-store');
  expect(html).to.match(/^<!DOCTYPE html>/i);
  expect(html).not.to.match(STACK_TRACE);
  return html;
}

/**
 * The error page: an HTML page (see expectHtmlPage) that redirects in no way at all, sets no cookies (but for a
 * signed-in browser's session, which the provider saves again on every authorization request), runs no script,
 * and shows the error code and a readable description.
 */
export async function expectHtmlErrorPage(res: Response, status: number, error: string, { signedIn = false } = {}): Promise<string> {
  const html = await expectHtmlPage(res, status);
  expect(res.headers.get('refresh'), 'Refresh header').to.equal(null);
  const cookies = res.headers.getSetCookie().filter((cookie) => !(signedIn && /^_session(\.sig)?=/.test(cookie)));
  expect(cookies, 'cookies set by a refused request').to.deep.equal([]);
  expect(html).not.to.match(/<meta[^>]+http-equiv="?refresh/i);
  expect(html).not.to.match(/<script/i);
  const code = /Error code: <code>([^<]*)<\/code>/.exec(html);
  expect(code, 'the error code on the page').to.not.equal(null);
  expect(code![1]).to.equal(error);
  const description = /<p class="error" role="alert">([^<]*)<\/p>/.exec(html);
  expect(description, 'a readable description').to.not.equal(null);
  expect(description![1]!.trim()).to.not.equal('');
  return html;
}

/** Polls `predicate` every 10 ms: true once it holds, false if it still does not after `ms`. */
export async function until(predicate: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** One complete HTTP/1.1 response (with a Content-Length) at the start of `text`, if there is one. */
export function parseResponse(text: string) {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = text.slice(0, end);
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
  if (text.length < end + 4 + length) return undefined;
  return {
    status: Number(head.slice(9, 12)),
    head,
    body: text.slice(end + 4, end + 4 + length),
    rest: text.slice(end + 4 + length),
  };
}
