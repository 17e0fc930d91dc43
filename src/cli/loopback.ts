import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fail } from './errors.js';

/*
 * The loopback redirect of a native app (RFC 8252 §7.3): a listener on 127.0.0.1 on a port the system picks,
 * which takes the browser's redirect to /callback once, and shows the browser how the login ended.
 */

const CALLBACK_PATH = '/callback';

export interface Loopback {
  redirectUri: string;
  /**
   * Waits for the redirect and hands its query to `handle`; the browser is shown that the login worked, or
   * the one-sentence reason it did not, and the result (or error) of `handle` is returned (or thrown).
   */
  receive<T>(handle: (params: URLSearchParams) => Promise<T>, timeoutMs: number): Promise<T>;
  close(): void;
}

export async function startLoopback(): Promise<Loopback> {
  // The first redirect is kept from the moment the listener is up: a quick browser may arrive before
  // receive() is called (the URL is printed, and opened, first).
  let arrive: (callback: { params: URLSearchParams; res: ServerResponse }) => void = () => {};
  const arrived = new Promise<{ params: URLSearchParams; res: ServerResponse }>((resolve) => { arrive = resolve; });
  let taken = false;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH || taken) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    taken = true;
    arrive({ params: url.searchParams, res });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    close() {
      server.close();
      server.closeAllConnections();
    },
    async receive<T>(handle: (params: URLSearchParams) => Promise<T>, timeoutMs: number) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(fail.loginTimeout()), timeoutMs); });
      const { params, res } = await Promise.race([arrived, timeout]).finally(() => clearTimeout(timer));
      try {
        const result = await handle(params);
        page(res, 200, 'You are logged in', 'You can close this tab and return to the terminal.');
        return result;
      } catch (err) {
        page(res, 400, 'Login failed', err instanceof Error ? err.message : String(err));
        throw err;
      }
    },
  };
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The headers of the server's own pages: this page's address carried the code, so the page is never cached
 * or framed and never sends that address on as a Referer. It has no script and loads nothing.
 */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function page(res: ServerResponse, status: number, title: string, text: string) {
  res.writeHead(status, { ...PAGE_HEADERS, connection: 'close' });
  res.end(`<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>`
    + `<body><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>\n`);
}
