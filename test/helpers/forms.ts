import { decodeEntities, type Browser } from './browser.js';

/** A urlencoded POST as a same-origin page would send it, with exactly these fields (no token unless given). */
export const postForm = (browser: Browser, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  browser.follow(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
    body: new URLSearchParams(fields).toString(),
  });

/** The value of the first CSRF field of a page. */
export const csrfOf = (html: string) => decodeEntities(/name="csrf" value="([^"]*)"/.exec(html)![1]!);
