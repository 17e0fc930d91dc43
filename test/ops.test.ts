import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { loadConfig } from '../config/env.js';
import { createLogger } from '../src/log.js';
import { start, type Running } from '../src/start.js';
import { callTool, mcpPost, mcpToken, toolCall } from './helpers/mcp.js';
import { OwnRedis, requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeCode, exchangeCode, form, json, loggedInBrowser, registerUser, type Tokens } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** A server whose JSON log lines (info and up, whatever LOG_LEVEL says) the test reads. */
async function serverWithLog(env: Record<string, string> = {}) {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const running: Running = await start(loadConfig({ PORT: '0', ...env }), createLogger('info', sink));
  return { running, url: running.issuer, lines };
}

/** What /healthz must name: the version in package.json, read here on its own. */
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The value of a metric without labels in Prometheus' text format. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

describe('operations: request ids, logs, health, readiness, metrics', () => {
  let server: Awaited<ReturnType<typeof serverWithLog>>;
  before(async () => {
    server = await serverWithLog();
  });
  after(() => server.running.close());

  it('gives every response an X-Request-Id of its own: without TRUST_PROXY an incoming one is never kept', async () => {
    const fresh = await fetch(`${server.url}/healthz`);
    expect(fresh.headers.get('x-request-id')).to.match(UUID);
    const sent = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'lb-1234.abc' } });
    expect(sent.headers.get('x-request-id')).to.match(UUID);
    expect(server.lines.join(''), 'the caller\'s id in the log').to.not.include('lb-1234.abc');
  });

  it('nor on /mcp answered at its edge (a known token, no Origin)', async () => {
    const { token } = await mcpToken(server.url);
    for (let call = 0; call < 3; call++) {
      const res = await mcpPost(server.url, token, toolCall('whoami'), { 'x-request-id': `forged-${call}` });
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-request-id')).to.match(UUID);
    }
    expect(server.lines.join('')).to.not.include('forged-');
  });

  it('logs one JSON line per request with its id and route template, and never a secret', async () => {
    const { browser, user } = await loggedInBrowser(server.url);
    const { code } = await authorizeCode(browser);
    const tokens = await (await exchangeCode(server.url, code)).json() as Tokens;
    await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    await fetch(`${server.url}/oauth/login`, json({ username: user.username, password: 'wrong-password-xyz' }));
    const log = server.lines.join('');
    for (const secret of [user.password, 'wrong-password-xyz', code, tokens.access_token, tokens.refresh_token, tokens.id_token!, 'secret1',
      browser.cookies.get('_session')!]) {
      expect(log, 'a secret in the log').to.not.include(secret);
    }
    const requests = server.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    const token = requests.find((l) => l.route === '/oauth/token');
    expect(token).to.include({ method: 'POST', status: 200 });
    expect(token.requestId).to.be.a('string');
    expect(requests.map((l) => l.route)).to.include('/oauth/authorize');
  });

  it('/healthz says the process is up and which version it runs; /readyz that storage answers', async () => {
    expect(PACKAGE_VERSION).to.match(/^\d+\.\d+\.\d+/);
    expect(await (await fetch(`${server.url}/healthz`)).json()).to.deep.equal({ status: 'ok', version: PACKAGE_VERSION });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ready' });
  });

  it('/metrics counts requests by route template, logins by outcome and tokens by grant type', async () => {
    const user = await registerUser(server.url);
    await fetch(`${server.url}/oauth/login`, json({ username: user.username, password: 'not-the-password' }));
    const { browser } = await loggedInBrowser(server.url);
    const { code } = await authorizeCode(browser);
    const tokens = await (await exchangeCode(server.url, code)).json() as Tokens;
    await fetch(`${server.url}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'client1', client_secret: 'secret1' }));
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await res.text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    expect(value(/^logins_total\{outcome="failed"\} (\d+)/m)).to.be.at.least(1);
    expect(value(/^logins_total\{outcome="succeeded"\} (\d+)/m)).to.be.at.least(1);
    expect(value(/^tokens_issued_total\{grant_type="authorization_code"\} (\d+)/m)).to.be.at.least(1);
    expect(value(/^tokens_issued_total\{grant_type="refresh_token"\} (\d+)/m)).to.be.at.least(1);
    expect(value(/^http_requests_total\{route="\/oauth\/token",method="POST",status="200"\} (\d+)/m)).to.be.at.least(2);
    expect(text).to.match(/^http_request_duration_seconds_bucket\{le="0\.05",route="\/oauth\/token",method="POST"\} \d+/m);
    expect(text).to.include('route="/oauth/authorize"');
    expect(text, 'no raw interaction ids as labels').to.not.match(/route="\/interaction\/[A-Za-z0-9_-]{10,}/);
    expect(text).to.match(/^process_resident_memory_bytes \d+/m);
  });

  it('a path a caller makes up never becomes a label value: a word after /interaction/<uid>/ counts as unmatched', async () => {
    // Lower-case letters only: the shape of the real actions (login, consent...).
    const letters = (n: number) => [...String(n)].map((digit) => 'abcdefghij'[Number(digit)]).join('');
    const words = Array.from({ length: 5 }, (_, i) => `madeup${letters(Date.now() + i)}`);
    for (const word of words) await fetch(`${server.url}/interaction/some-uid/${word}`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const word of words) expect(text).to.not.include(word);
    expect(text).to.match(/^http_requests_total\{route="unmatched",method="GET",status="404"\} \d+/m);
  });
});

describe('operations: X-Request-Id behind a proxy (TRUST_PROXY)', () => {
  let server: Awaited<ReturnType<typeof serverWithLog>>;
  before(async () => {
    server = await serverWithLog({ TRUST_PROXY: 'true' });
  });
  after(() => server.running.close());

  /** The ids the 'request' log lines carry. */
  const loggedIds = () => server.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request').map((l) => l.requestId);

  const wellFormed = ['lb-1234.abc', 'a', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', 'req_01:02', 'x'.repeat(128)];
  const malformed = ['x'.repeat(129), 'two words', 'id"injected', 'a/b', 'a=b', 'id,other', 'caf\u00e9', '\t'];

  /** Each request's answer and log line name the same id: the one sent when `kept`, else a new one of ours. */
  async function expectIds(send: (incoming: string) => Promise<Response>, kept: string[], replaced: string[]) {
    for (const incoming of kept) {
      const res = await send(incoming);
      expect(res.headers.get('x-request-id'), incoming).to.equal(incoming);
      expect(loggedIds(), incoming).to.include(incoming);
    }
    for (const incoming of replaced) {
      const res = await send(incoming);
      const id = res.headers.get('x-request-id');
      expect(id, JSON.stringify(incoming)).to.match(UUID);
      expect(loggedIds()).to.include(id);
      expect(loggedIds(), JSON.stringify(incoming)).to.not.include(incoming);
    }
  }

  it('keeps a well-formed incoming id (1 to 128 of A-Z a-z 0-9 . _ : -) in the answer and the log; replaces any other', async () => {
    await expectIds((id) => fetch(`${server.url}/healthz`, { headers: { 'x-request-id': id } }), wellFormed, malformed);
    const absent = await fetch(`${server.url}/healthz`);
    expect(absent.headers.get('x-request-id')).to.match(UUID);
  });

  it('the same on /mcp answered at its edge (a known token, no Origin)', async () => {
    const { token } = await mcpToken(server.url);
    // The first call makes the token known, so that the ones after it are served at the edge.
    expect((await mcpPost(server.url, token, toolCall('whoami'))).status).to.equal(200);
    const send = async (id: string) => {
      const res = await mcpPost(server.url, token, toolCall('whoami'), { 'x-request-id': id });
      expect(res.status).to.equal(200);
      return res;
    };
    await expectIds(send, wellFormed.slice(0, 2), malformed.slice(0, 3));
  });
});

describe('operations: MCP tool calls in the metrics', () => {
  let server: Awaited<ReturnType<typeof serverWithLog>>;
  before(async () => {
    server = await serverWithLog();
  });
  after(() => server.running.close());

  it('counts tool calls by tool and outcome: ok, tool_error, denied (scope), and never by a name the caller made up', async () => {
    const { token } = await mcpToken(server.url, 'notes:read');
    await callTool(server.url, token, 'whoami');
    await callTool(server.url, token, 'notes_list');
    await mcpPost(server.url, token, toolCall('notes_add', { text: 'x' }));
    await mcpPost(server.url, token, toolCall('made_up_tool_name'));
    const { token: writer } = await mcpToken(server.url);
    await callTool(server.url, writer, 'notes_delete', { id: randomUUID() });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const count = (tool: string, outcome: string) =>
      Number(new RegExp(`^mcp_tool_calls_total\\{tool="${tool}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    expect(count('whoami', 'ok')).to.equal(1);
    expect(count('notes_list', 'ok')).to.equal(1);
    expect(count('notes_add', 'denied')).to.equal(1);
    expect(count('notes_delete', 'tool_error')).to.equal(1);
    expect(text).to.not.include('made_up_tool_name');
  });
});

describe('operations on Redis', () => {
  const redis = requireRedis();

  it('/readyz turns 503 while Redis is away (the process stays live), and ready again after', async () => {
    const own = await OwnRedis.launch();
    const server = await serverWithLog({ REDIS_URL: own.url, REDIS_PREFIX: uniquePrefix() });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).to.equal(200);
      await own.stop();
      const down = await fetch(`${server.url}/readyz`);
      expect(down.status).to.equal(503);
      expect((await down.json()).status).to.equal('unavailable');
      expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
      await own.start();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await fetch(`${server.url}/readyz`)).status;
      }
      expect(status).to.equal(200);
      expect(server.lines.join('')).to.match(/unreachable/).and.match(/reachable again/);
    } finally {
      await server.running.close();
      await own.stop();
    }
    expect(redis.url).to.be.a('string');
  });

  it('counts each request that fails with 503 while Redis is away in storage_errors_total', async () => {
    const own = await OwnRedis.launch();
    const server = await serverWithLog({ REDIS_URL: own.url, REDIS_PREFIX: uniquePrefix() });
    try {
      const before = await metric(server.url, 'storage_errors_total');
      expect(before).to.equal(0);
      await own.stop();
      for (const attempt of [1, 2]) {
        const res = await fetch(`${server.url}/oauth/login`, json({ username: `nobody${attempt}`, password: 'password123' }));
        expect(res.status).to.equal(503);
      }
      expect(await metric(server.url, 'storage_errors_total')).to.equal(before + 2);
    } finally {
      // Not own.stop() again: the redis-server is stopped above, or killed when the test run exits.
      await server.running.close();
    }
  });

  describe('with storage that answers nonsense (a bug, not an outage)', () => {
    const prefix = uniquePrefix();
    let server: Awaited<ReturnType<typeof serverWithLog>>;
    let client: Redis;
    before(async () => {
      server = await serverWithLog({ REDIS_URL: redis.url, REDIS_PREFIX: prefix });
      client = new Redis(redis.url);
    });
    after(async () => {
      await server.running.close();
      client.disconnect();
    });

    /** The log lines named `msg` (JSON-parsed). */
    const logged = (msg: string) => server.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);

    it('logs an unhandled error with the id of the request it failed, under concurrent requests too', async () => {
      const names = ['corrupt-a', 'corrupt-b', 'corrupt-c'];
      // A string where an account hash belongs: reading it fails with WRONGTYPE, which is no outage.
      for (const name of names) await client.set(`${prefix}account:{${name}}`, 'not a hash');
      const answers = await Promise.all(names.map((username) =>
        fetch(`${server.url}/oauth/login`, json({ username, password: 'password123' }))));
      const ids = answers.map((res) => {
        expect(res.status).to.equal(500);
        return res.headers.get('x-request-id');
      });
      const errors = logged('unhandled error');
      expect(errors).to.have.length(3);
      expect(errors.map((l) => l.requestId).sort()).to.deep.equal([...ids].sort());
      expect(errors[0].err.message).to.match(/WRONGTYPE/);
    });

    it("logs the provider's server_error with the id of the request it failed", async () => {
      await client.set(`${prefix}Client:{corrupt-client}`, 'not a hash');
      const res = await fetch(`${server.url}/oauth/authorize?${new URLSearchParams({
        client_id: 'corrupt-client', response_type: 'code', redirect_uri: `${server.url}/callback`, scope: 'openid',
      })}`);
      expect(res.status).to.equal(500);
      const [error, ...more] = logged('provider error');
      expect(more).to.be.empty;
      expect(error.requestId).to.equal(res.headers.get('x-request-id'));
    });

    it("logs a tool's failure inside the shared MCP server with the id of the HTTP request that called it", async () => {
      const { token, user } = await mcpToken(server.url);
      await client.set(`${prefix}notes:{${user.userId}}`, 'not a hash');
      const res = await mcpPost(server.url, token, toolCall('notes_list'));
      expect(res.status).to.equal(200);
      expect((await res.json()).result.isError).to.equal(true);
      const [error, ...more] = logged('tool failed');
      expect(more).to.be.empty;
      expect(error.requestId).to.equal(res.headers.get('x-request-id'));
    });
  });
});

describe('operations: who may read /metrics', () => {
  const metricsFrom = (server: TestServer, headers: Record<string, string> = {}) => fetch(`${server.url}/metrics`, { headers });
  /** What a refusal looks like: exactly the 404 of a path that does not exist. */
  async function expectHidden(res: Response) {
    expect(res.status).to.equal(404);
    expect(await res.json()).to.deep.equal({ error: 'not_found', error_description: 'no such endpoint: GET /metrics' });
  }
  const expectMetrics = async (res: Response) => {
    expect(res.status).to.equal(200);
    expect(await res.text()).to.match(/^process_resident_memory_bytes \d+/m);
  };

  describe('by default: loopback and private client addresses only', () => {
    let direct: TestServer;
    let proxied: TestServer;
    before(async () => {
      direct = await startTestServer();
      proxied = await startTestServer({ TRUST_PROXY: 'true' });
    });
    after(async () => {
      await direct?.close();
      await proxied?.close();
    });

    it('answers a scraper on loopback, directly or through a trusted proxy from a private address', async () => {
      await expectMetrics(await metricsFrom(direct));
      for (const client of ['10.1.2.3', '172.20.0.5', '192.168.1.9', '127.0.0.1', 'fd00::5', '::ffff:10.0.0.7']) {
        await expectMetrics(await metricsFrom(proxied, { 'x-forwarded-for': client }));
      }
    });

    it('behind a trusted proxy, a public client address gets the 404 of an unknown path, whatever it writes in front', async () => {
      for (const client of ['203.0.113.7', '2001:db8::1', '10.0.0.1, 198.51.100.4', '172.32.0.1', '192.169.0.1']) {
        await expectHidden(await metricsFrom(proxied, { 'x-forwarded-for': client }));
      }
    });

    it('with TRUST_PROXY off, a request that came through a proxy is refused: its loopback address is the proxy\'s', async () => {
      for (const headers of [{ 'x-forwarded-for': '10.0.0.1' }, { forwarded: 'for=192.0.2.60' }, { 'x-real-ip': '127.0.0.1' }] as Record<string, string>[]) {
        await expectHidden(await metricsFrom(direct, headers));
      }
    });
  });

  describe('with METRICS_TOKEN', () => {
    const token = 'scrape-0123456789abcdef';
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ METRICS_TOKEN: token, TRUST_PROXY: 'true' });
    });
    after(() => server?.close());

    it('answers whoever sends the token, from any address, and nobody else (loopback included)', async () => {
      await expectMetrics(await metricsFrom(server, { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.7' }));
      await expectMetrics(await metricsFrom(server, { authorization: `bearer ${token}` }));
      for (const authorization of [undefined, `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Basic ${token}`, token, 'Bearer ']) {
        await expectHidden(await metricsFrom(server, authorization ? { authorization } : {}));
      }
    });
  });
});
