import { createHash, randomBytes } from 'node:crypto';

/*
 * What users and MCP hosts do, as plain HTTP requests, for the capacity measurement (bench/capacity.ts): each step
 * checks its answer, since a refused request would be counted as a cheap one.
 */

export interface User {
  username: string;
  password: string;
}

/** A client of the authorization server: client1 (confidential), or an MCP host registered through DCR (public). */
export interface Client {
  clientId: string;
  secret?: string;
  redirectUri: string;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

async function expectStatus(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const postForm = (url: string, fields: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });

export const client1 = (base: string): Client => ({ clientId: 'client1', secret: 'secret1', redirectUri: `${base}/callback` });

export async function signUp(base: string, user: User): Promise<void> {
  await (await expectStatus(await postJson(`${base}/oauth/register`, user), 201, 'sign-up')).arrayBuffer();
}

/** The seed's JSON login: a session cookie for /oauth/authorize. */
export async function logIn(base: string, user: User): Promise<Browser> {
  const browser = new Browser(base);
  await browser.keep(await expectStatus(await postJson(`${base}/oauth/login`, user), 200, 'login')).arrayBuffer();
  return browser;
}

/** Dynamic Client Registration as MCP hosts make it: public, loopback redirect. */
export async function registerHost(base: string): Promise<Client> {
  const redirectUri = 'http://127.0.0.1:33418/callback';
  const res = await postJson(`${base}/oauth/clients`, { redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', client_name: 'capacity host' });
  const { client_id: clientId } = await (await expectStatus(res, 201, 'client registration')).json() as { client_id: string };
  return { clientId, redirectUri };
}

/** Where an authorization stopped: the redirect to the client with a code, or one of this server's pages. */
type Step = { code: string } | { html: string; url: URL };

/** A browser of one user: its cookies, and the redirects it follows on this server until one leaves for a client. */
export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  keep(res: Response): Response {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      this.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return res;
  }

  /** The Cookie header this browser sends. */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private request(url: URL, init: RequestInit = {}): Promise<Response> {
    return fetch(url, { ...init, headers: { ...init.headers as Record<string, string>, cookie: this.cookieHeader() }, redirect: 'manual' })
      .then((res) => this.keep(res));
  }

  private async follow(url: URL, init?: RequestInit): Promise<Step> {
    let res = await this.request(url, init);
    while (res.status === 303 || res.status === 302) {
      url = new URL(res.headers.get('location')!, url);
      await res.arrayBuffer();
      const code = url.searchParams.get('code');
      if (code) return { code };
      if (url.searchParams.has('error')) throw new Error(`authorization refused: ${url.href}`);
      res = await this.request(url);
    }
    return { html: await (await expectStatus(res, 200, url.pathname)).text(), url };
  }

  /** Starts an authorization with PKCE for the MCP resource; returns where it stopped and the PKCE verifier. */
  async authorize(client: Client): Promise<{ step: Step; verifier: string }> {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL('/oauth/authorize', this.base);
    url.search = new URLSearchParams({
      client_id: client.clientId, redirect_uri: client.redirectUri, response_type: 'code', state: 'capacity',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource: `${this.base}/mcp`,
    }).toString();
    return { step: await this.follow(url), verifier };
  }

  /** Submits the sign-in or consent form of the interaction page `step` stopped at. */
  async submit(step: Step, form: 'login' | 'consent', fields: Record<string, string> = {}): Promise<Step> {
    if ('code' in step) throw new Error(`no ${form} page: the authorization went through without one`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(step.html)?.[1];
    if (!csrf) throw new Error(`no form on ${step.url.pathname}`);
    return this.follow(new URL(`${step.url.pathname}/${form}`, this.base), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ csrf, ...fields }),
    });
  }
}

const codeOf = (step: Step): string => {
  if (!('code' in step)) throw new Error(`no code: the authorization stopped at ${step.url.pathname}`);
  return step.code;
};

const clientAuth = (client: Client) => ({ client_id: client.clientId, ...(client.secret ? { client_secret: client.secret } : {}) });

export async function exchangeCode(base: string, client: Client, code: string, verifier: string): Promise<Tokens> {
  const res = await postForm(`${base}/oauth/token`, {
    grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier, ...clientAuth(client),
  });
  return await (await expectStatus(res, 200, 'code exchange')).json() as Tokens;
}

/** The form of a refresh_token grant. */
export const refreshForm = (client: Client, refreshToken: string) => ({ grant_type: 'refresh_token', refresh_token: refreshToken, ...clientAuth(client) });

export async function refresh(base: string, client: Client, refreshToken: string): Promise<Tokens> {
  const res = await postForm(`${base}/oauth/token`, refreshForm(client, refreshToken));
  return await (await expectStatus(res, 200, 'refresh')).json() as Tokens;
}

/** A new browser's authorization for `client` through the sign-in page; the browser keeps the session. */
export async function signInThroughPages(base: string, client: Client, user: User): Promise<{ browser: Browser; tokens: Tokens }> {
  const browser = new Browser(base);
  const { step, verifier } = await browser.authorize(client);
  const code = codeOf(await browser.submit(step, 'login', { username: user.username, password: user.password }));
  return { browser, tokens: await exchangeCode(base, client, code, verifier) };
}

/** A signed-in browser's authorization of a third-party host, through the consent page. */
export async function connectHost(browser: Browser, host: Client): Promise<Tokens> {
  const { step, verifier } = await browser.authorize(host);
  return exchangeCode(browser.base, host, codeOf(await browser.submit(step, 'consent')), verifier);
}

/** A signed-in browser's authorization of a first-party client: no page at all. */
export async function authorizeSignedIn(browser: Browser, client: Client): Promise<Tokens> {
  const { step, verifier } = await browser.authorize(client);
  return exchangeCode(browser.base, client, codeOf(step), verifier);
}

/** The body of one JSON-RPC request to /mcp. */
export const mcpRequest = (method: string, params?: Record<string, unknown>) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) });

export const mcpHeaders = (token: string) => ({ ...MCP_HEADERS, authorization: `Bearer ${token}` });

/** One MCP request; a JSON-RPC error or a tool's error is a failure. */
export async function mcp(base: string, token: string, body: string): Promise<void> {
  const res = await fetch(`${base}/mcp`, { method: 'POST', headers: mcpHeaders(token), body });
  const text = await (await expectStatus(res, 200, 'MCP request')).text();
  const answer = JSON.parse(text) as { error?: unknown; result?: { isError?: boolean } };
  if (answer.error || answer.result?.isError) throw new Error(`MCP request failed: ${text}`);
}
