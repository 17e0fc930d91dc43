import { STORAGE_RETRY_AFTER_SECONDS } from '../config/storage-outages.js';
import { UPSTREAM_HEADER, type GatewayFailure } from './proxy.js';
import type { Tally } from './tally.js';

/** A request with no answer by then is a hang: the server promises 503 at once when storage is away. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How long one request is retried (502s, 503s) before the soak calls it a failure. */
const RETRY_BUDGET_MS = 90_000;
/** Before retrying a 502: the proxy sends the retry to the next instance. */
const GATEWAY_RETRY_MS = 50;
/** The storage outage's Retry-After, for answers that cannot carry one (an error redirect to the client). */
export const DEFAULT_RETRY_AFTER_S = STORAGE_RETRY_AFTER_SECONDS;

/** How many of a user's last requests a problem report shows. */
const HISTORY = 8;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The request ended the action it belonged to; the reason is already in the tally. */
export class GaveUp extends Error {}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The instance that answered. */
  upstream: string | undefined;
  /** An earlier attempt broke after reaching an instance: that instance may have done the work. */
  uncertain: boolean;
  /** How many 503s were retried before this answer. */
  after503: number;
}

export const retryAfterMs = (headers: Headers) => 1000 * (Number(headers.get('retry-after')) || DEFAULT_RETRY_AFTER_S);

export interface SendOptions {
  /** Retry the same request after a 503, once its Retry-After has passed (default true). */
  retry503?: boolean;
}

/**
 * One user's HTTP client to the proxy: a cookie jar (one host, by cookie name), redirects left to the caller, and
 * the retries a careful client makes. A 502 (an instance down or gone mid-request) is sent again at once and lands
 * on the next instance; a 503 is sent again after its Retry-After. Every answer is counted in the tally.
 */
export class Client {
  private readonly cookies = new Map<string, string>();
  /** The last requests and what came back, newest last: what a problem report shows of how it came about. */
  private readonly recent: string[] = [];

  constructor(readonly base: string, private readonly tally: Tally) {}

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0\b|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, eq).trim());
      else this.cookies.set(pair.slice(0, eq).trim(), value);
    }
  }

  private note(line: string): void {
    this.recent.push(`${(this.tally.now() / 1000).toFixed(1)} s ${line}`);
    if (this.recent.length > HISTORY) this.recent.shift();
  }

  /** The last requests, one per line. */
  history(): string {
    return this.recent.map((line) => `      ${line}`).join('\n');
  }

  /** Forgets every cookie: the next sign-in is a new browser session. */
  forget(): void {
    this.cookies.clear();
  }

  async send(op: string, path: string, init: RequestInit = {}, { retry503 = true }: SendOptions = {}): Promise<Reply> {
    const started = Date.now();
    let uncertain = false;
    let after503 = 0;
    for (;;) {
      const headers = new Headers(init.headers);
      if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
      let res: Response | undefined;
      let text: string;
      try {
        res = await fetch(new URL(path, this.base), { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        text = await res.text();
      } catch (err) {
        const outcome = (err as Error).name === 'TimeoutError' ? 'timeout' : (res ? 'cut-body' : 'no-proxy');
        this.tally.answer(op, outcome);
        this.note(`${init.method ?? 'GET'} ${path.split('?')[0]} → ${outcome}`);
        if (outcome !== 'cut-body') {
          this.tally.problem(op, `${outcome}: ${(err as Error).message} (${init.method ?? 'GET'} ${path.slice(0, 60)})`);
          throw new GaveUp();
        }
        // The proxy cut the answer because the instance died sending it: like a 502 after the request arrived.
        uncertain = true;
        this.tally.explain('answer cut mid-body by an instance going away');
        await sleep(GATEWAY_RETRY_MS);
        continue;
      }
      this.remember(res);
      const upstream = res.headers.get(UPSTREAM_HEADER) ?? undefined;
      this.tally.answer(op, res.status, upstream);
      this.note(`${init.method ?? 'GET'} ${path.split('?')[0]} → ${res.status} from ${upstream ?? '?'}${res.headers.get('location') ? ` → ${res.headers.get('location')!.replace(this.base, '').slice(0, 60)}` : ''}`);
      const again = res.status === 502 || (res.status === 503 && retry503);
      if (again && Date.now() - started > RETRY_BUDGET_MS) {
        this.tally.problem(op, `still ${res.status} after retrying for ${RETRY_BUDGET_MS / 1000} s`);
        throw new GaveUp();
      }
      if (res.status === 502) {
        const failure = (JSON.parse(text) as { failure: GatewayFailure }).failure;
        if (failure === 'cut') uncertain = true;
        await sleep(GATEWAY_RETRY_MS);
        continue;
      }
      if (res.status === 503 && retry503) {
        after503++;
        await sleep(retryAfterMs(res.headers));
        continue;
      }
      // A 503 not retried here is the caller's to handle; any other 5xx is a failure of the server.
      if (res.status >= 500 && res.status !== 503) this.tally.problem(op, `${res.status} from ${upstream ?? '?'}: ${text.slice(0, 200)}`);
      return { status: res.status, headers: res.headers, text, upstream, uncertain, after503 };
    }
  }
}
