import { expect } from 'chai';
import { loadConfig } from '../config/env.js';
import { createLogger } from '../src/log.js';
import { start } from '../src/start.js';
import { mcpToken, modernPost, modernRequest } from './helpers/mcp.js';
import { RawConnection } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** Runs `test` against a server of its own with `env`, and closes the server whatever happens. */
async function withServer(env: Record<string, string>, test: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer(env);
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `lines` one by one, `everyMs` apart, while the connection is open. */
async function trickle(connection: RawConnection, lines: string[], everyMs: number): Promise<void> {
  for (const line of lines) {
    if (connection.isClosed) return;
    connection.write(line);
    await sleep(everyMs);
  }
}

/** How long after it opened `connection` was closed, or Infinity if still open after `ms`: a failure in seconds, not at mocha's timeout. */
const closedWithin = (connection: RawConnection, ms: number) =>
  Promise.race([connection.closed, sleep(ms).then(() => Infinity)]);

const headerLines = (n: number) => Array.from({ length: n }, (_, i) => `X-Slow-${i}: ${i}\r\n`);

describe('bounds on slow, idle and numerous connections', function () {
  this.timeout(20000);

  it('closes a connection whose headers trickle in (slowloris) once HTTP_HEADERS_TIMEOUT_MS is over, with a 408', async () => {
    await withServer({ HTTP_HEADERS_TIMEOUT_MS: '1000' }, async ({ url }) => {
      const slow = await RawConnection.open(url);
      slow.write(`GET /healthz HTTP/1.1\r\nHost: ${new URL(url).host}\r\n`);
      void trickle(slow, headerLines(40), 200);
      // Node checks every second: closed between the timeout and a second after it, not after Node's 60 + 30 s.
      expect(await closedWithin(slow, 4000)).to.be.within(900, 3000);
      expect(slow.received).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/).and.match(/\r\nConnection: close\r\n/i);
    });
  });

  it('closes a connection that sends nothing once HTTP_HEADERS_TIMEOUT_MS is over', async () => {
    await withServer({ HTTP_HEADERS_TIMEOUT_MS: '1000' }, async ({ url }) => {
      const silent = await RawConnection.open(url);
      expect(await closedWithin(silent, 4000)).to.be.within(900, 3000);
    });
  });

  it('closes a connection whose body trickles in once HTTP_REQUEST_TIMEOUT_MS is over, with a 408', async () => {
    await withServer({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '1500' }, async ({ url }) => {
      const slow = await RawConnection.open(url);
      slow.write(`POST /oauth/register HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{`);
      void trickle(slow, Array.from({ length: 40 }, () => ' '), 200);
      expect(await closedWithin(slow, 5000)).to.be.within(1400, 3500);
      expect(slow.received).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
  });

  it('announces HTTP_KEEP_ALIVE_TIMEOUT_MS and closes a keep-alive connection idle for that long', async () => {
    await withServer({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000' }, async ({ url }) => {
      const idle = await RawConnection.open(url);
      idle.get('/healthz', new URL(url).host);
      const answered = Date.now();
      const res = await idle.response();
      expect(res.status).to.equal(200);
      expect(res.headers).to.include({ connection: 'keep-alive', 'keep-alive': 'timeout=1' });
      await closedWithin(idle, 4000);
      // Node closes a second past what it announces, so that a client honouring the announcement closes first.
      expect(Date.now() - answered).to.be.within(1900, 3500);
    });
  });

  it('keeps an idle connection longer than the 60 s idle timeout of common proxies, by default', async () => {
    await withServer({}, async ({ url }) => {
      const pooled = await RawConnection.open(url);
      pooled.get('/healthz', new URL(url).host);
      expect((await pooled.response()).headers).to.include({ 'keep-alive': 'timeout=65' });
      pooled.destroy();
    });
  });

  it('refuses connections past HTTP_MAX_CONNECTIONS, says so in the log, and takes new ones once some are closed', async () => {
    const config = loadConfig({ PORT: '0', SHUTDOWN_DRAIN_MS: '0', HTTP_MAX_CONNECTIONS: '2' });
    const lines: string[] = [];
    const running = await start(config, createLogger('warn', { write: (line: string) => { lines.push(line); } }));
    try {
      const url = running.issuer;
      const host = new URL(url).host;
      const held = [await RawConnection.open(url), await RawConnection.open(url)];
      for (const connection of held) {
        connection.get('/healthz', host);
        expect((await connection.response()).status).to.equal(200);
      }
      const refused = [await RawConnection.open(url), await RawConnection.open(url)];
      for (const connection of refused) {
        connection.get('/healthz', host);
        // Accepted by the kernel, closed by the server unanswered.
        expect(await closedWithin(connection, 2000)).to.be.below(1000);
        expect(connection.received).to.equal('');
      }
      // One line for the flood, not one per connection.
      const warnings = lines.filter((line) => line.includes('connection limit reached (HTTP_MAX_CONNECTIONS=2)'));
      expect(warnings).to.have.length(1);
      held[0]!.destroy();
      await held[0]!.closed;
      await sleep(50);
      const next = await RawConnection.open(url);
      next.get('/healthz', host);
      expect((await next.response()).status).to.equal(200);
      for (const connection of [held[1]!, next]) connection.destroy();
    } finally {
      await running.close();
    }
  });

  it('does not cut a 2026-07-28 subscription stream that outlasts HTTP_REQUEST_TIMEOUT_MS', async () => {
    const server = await startTestServer({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '1000' });
    let closing = false;
    try {
      const { token } = await mcpToken(server.url);
      const res = await modernPost(server.url, token, modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } }));
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
      const reader = res.body!.getReader();
      let stream = new TextDecoder().decode((await reader.read()).value);
      expect(stream).to.include('notifications/subscriptions/acknowledged');
      // Twice the timeout, and more than a check interval past it.
      await sleep(2500);
      closing = true;
      const stopped = server.close();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) stream += new TextDecoder().decode(chunk.value);
      // Still open after 2.5 s: it ends with the subscription's own final result, sent on shutdown.
      expect(stream).to.match(/"resultType":"complete"/);
      await stopped;
    } finally {
      if (!closing) await server.close();
    }
  });
});
