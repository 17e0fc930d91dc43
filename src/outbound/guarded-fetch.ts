import { lookup } from 'node:dns/promises';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { RecentFailures } from './recent-failures.js';
import { assertSpecialUseCheckWorks, isSpecialUse } from './special-use.js';

/**
 * The bounds of every fetch. 64 KiB holds any real metadata document, key set or sector list many times over
 * (the provider's own limit for metadata documents is 5 KiB); 5 s covers resolution, connection and the whole
 * answer; a failure is repeated for 30 s without a new request.
 */
export const OUTBOUND_LIMITS = { maxBytes: 64 * 1024, timeoutMs: 5_000, failureTtlMs: 30_000 } as const;

export interface OutboundGuardOptions {
  maxBytes?: number;
  timeoutMs?: number;
  failureTtlMs?: number;
  /** Every address of a host name, asked once per fetch; by default the system resolver's (node:dns lookup). */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Which addresses are refused: by default the special-use ones. Tests of the other bounds allow their own server. */
  refuses?: (address: string) => boolean;
  /** node:https's request, or a stand-in with its signature (tests: node:http's, to a plain local server). */
  request?: (options: RequestOptions, onResponse: (res: IncomingMessage) => void) => ClientRequest;
  /** Told of each failure, by origin: a URL's path and query are the caller's and stay out of the log. */
  onFailure?: (origin: string, reason: string) => void;
}

/** A fetch the guard did not make or did not complete; the provider reports it as the document's fetch failing. */
export class OutboundFetchError extends Error {
  override name = 'OutboundFetchError';
}

type Failure = { reason: string } | { status: number; statusText: string };

/** Thrown for an answer that broke a bound of the document itself, not of the host serving it. */
class DocumentFailure extends OutboundFetchError {}

async function resolveAll(hostname: string): Promise<string[]> {
  return (await lookup(hostname, { all: true })).map(({ address }) => address);
}

/**
 * The `fetch` the provider gets for Client ID Metadata Documents, clients' jwks_uri and sector_identifier_uri:
 * URLs anonymous callers choose, so it must not become a way into this host's network (SSRF). The same code on
 * every runtime: oidc-provider's own guard hooks undici's global dispatcher, which Bun does not have.
 *  - https only, GET only, no credentials in the URL;
 *  - the host name is resolved once and refused if ANY of its addresses is special-use (a name with one public and
 *    one private address is no less dangerous); then a checked address itself is connected to, so a DNS answer
 *    that changes between check and connection (rebinding) is never asked for. TLS is still verified for the name
 *    (servername) and the Host header is the name's;
 *  - redirects are not followed (the 3xx is the answer, and the provider refuses it);
 *  - the answer is read up to `maxBytes` and no further, all within `timeoutMs`;
 *  - a failure (refused, unreachable, too slow, too large, or a status other than 200) is repeated without a new
 *    request for `failureTtlMs`: by origin when the host failed, by URL when the document did.
 * Throws at once if this runtime's address check cannot be trusted, so the server refuses to start unguarded.
 */
export function guardedFetch(options: OutboundGuardOptions = {}): typeof fetch {
  assertSpecialUseCheckWorks();
  const {
    maxBytes = OUTBOUND_LIMITS.maxBytes, timeoutMs = OUTBOUND_LIMITS.timeoutMs, failureTtlMs = OUTBOUND_LIMITS.failureTtlMs,
    resolve = resolveAll, refuses = isSpecialUse, request = httpsRequest, onFailure,
  } = options;
  const failures = new RecentFailures<Failure>(failureTtlMs);

  const guarded = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    refuseRequest(url, init);
    const remembered = failures.get(url.origin) ?? failures.get(url.href);
    if (remembered) return replay(remembered);
    try {
      const response = await fetchChecked(url, init);
      if (response.status !== 200) failures.set(url.href, { status: response.status, statusText: response.statusText });
      return response;
    } catch (err) {
      const reason = err instanceof OutboundFetchError ? err.message : `${url.host}: ${(err as Error).message}`;
      failures.set(err instanceof DocumentFailure ? url.href : url.origin, { reason });
      onFailure?.(url.origin, reason);
      throw err instanceof OutboundFetchError ? err : new OutboundFetchError(reason, { cause: err });
    }
  };

  function replay(failure: Failure): Response {
    if ('reason' in failure) throw new OutboundFetchError(`${failure.reason} (failed within the last ${failureTtlMs / 1000} s)`);
    return new Response(null, failure);
  }

  async function fetchChecked(url: URL, init: RequestInit): Promise<Response> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    const hostname = url.hostname.replace(/^\[(.*)\]$/s, '$1');
    const addresses = isIP(hostname) ? [hostname] : await untilAborted(resolve(hostname), signal, deadline, url);
    if (!addresses.length) throw new OutboundFetchError(`${url.host} has no address`);
    const refused = addresses.filter(refuses);
    if (refused.length) {
      throw new OutboundFetchError(`${url.host} ${hostname === refused[0] ? 'is' : 'resolves to'} a special-use address (${refused.join(', ')}): not fetched`);
    }
    const headers = Object.fromEntries(new Headers(init.headers));
    // IPv4 first: a host without IPv6 routes would otherwise fail every dual-stack name on its first address.
    const ordered = [...addresses].sort((a, b) => isIP(a) - isIP(b));
    let lastError: unknown;
    for (const address of ordered) {
      try {
        return await fetchFrom(address, url, hostname, headers, signal, deadline);
      } catch (err) {
        if (!(err instanceof ConnectionFailure)) throw err;
        lastError = err.cause;
      }
    }
    throw new OutboundFetchError(`${url.host}: ${(lastError as Error).message}`, { cause: lastError });
  }

  function fetchFrom(address: string, url: URL, hostname: string, headers: Record<string, string>, signal: AbortSignal,
    deadline: AbortSignal): Promise<Response> {
    return new Promise((resolvePromise, reject) => {
      let answered = false;
      // Settled once: Bun 1.3 ends a response synchronously when its request is destroyed, which must not then pass
      // for a complete answer.
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', abort);
        reject(answered || err instanceof OutboundFetchError ? err : new ConnectionFailure('connection failed', { cause: err }));
        req.destroy();
      };
      const req = request({
        host: address,
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        // SNI and the certificate check are the name's (an address literal has no SNI), though the address is dialled.
        servername: isIP(hostname) ? undefined : hostname,
        headers: { ...headers, host: url.host },
        agent: false,
      }, (res) => {
        answered = true;
        const length = Number(res.headers['content-length']);
        if (length > maxBytes) return fail(new DocumentFailure(`${url.host}: the answer is larger than ${maxBytes} bytes`));
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) fail(new DocumentFailure(`${url.host}: the answer is larger than ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('close', () => fail(new OutboundFetchError(`${url.host}: the connection closed before the answer ended`)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', abort);
          try {
            resolvePromise(toResponse(res, Buffer.concat(chunks)));
          } catch (err) {
            reject(new DocumentFailure(`${url.host}: ${(err as Error).message}`));
          }
        });
      });
      const abort = () => fail(timedOut(signal, deadline, url));
      req.on('error', fail);
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      req.end();
    });
  }

  function timedOut(signal: AbortSignal, deadline: AbortSignal, url: URL): OutboundFetchError {
    if (deadline.aborted) return new OutboundFetchError(`${url.host}: no complete answer within ${timeoutMs / 1000} s`);
    return new OutboundFetchError(`${url.host}: ${String((signal.reason as Error | undefined)?.message ?? 'aborted')}`);
  }

  async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, deadline: AbortSignal, url: URL): Promise<T> {
    if (signal.aborted) throw timedOut(signal, deadline, url);
    let onAbort!: () => void;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(timedOut(signal, deadline, url));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([work, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  return guarded as typeof fetch;
}

/** Requests the guard never makes, whatever the host: they say nothing about it, so they are not remembered. */
function refuseRequest(url: URL, init: RequestInit) {
  const method = (init.method ?? 'GET').toUpperCase();
  if (url.protocol !== 'https:') throw new OutboundFetchError(`${url.protocol} URLs are not fetched, only https:`);
  if (method !== 'GET') throw new OutboundFetchError(`${method} requests are not made, only GET`);
  if (url.username || url.password) throw new OutboundFetchError('URLs with credentials are not fetched');
}

/** The connection itself failed (refused, unreachable, TLS): the next address of the name may do better. */
class ConnectionFailure extends Error {}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function toResponse(res: IncomingMessage, body: Buffer): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 0;
  return new Response(NULL_BODY_STATUSES.has(status) ? null : body, { status, statusText: res.statusMessage ?? '', headers });
}
