import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Headers of one connection, not of the message (RFC 9110 §7.6.1): a proxy neither forwards nor copies them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** How long an upstream that refused a connection is left out of the rotation (nginx: max_fails=1 fail_timeout). */
const EJECT_MS = 1_000;

/** The header that tells the soak which instance answered. */
export const UPSTREAM_HEADER = 'x-soak-upstream';

/**
 * Why the proxy answered 502: `refused` (no connection: the request never reached an instance) or `cut` (the
 * connection broke before the answer: the instance may have done the work).
 */
export type GatewayFailure = 'refused' | 'cut';

export interface Upstream {
  name: string;
  port: number;
}

interface Pool extends Upstream {
  agent: http.Agent;
  ejectedUntil: number;
}

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set((String(headers.connection ?? '')).split(',').map((h) => h.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)));
}

/**
 * A small reverse proxy as deployments put in front of several instances: round-robin over the upstreams, a pool of
 * kept-alive connections to each, X-Forwarded-For appended (the instances run with TRUST_PROXY=1). Like nginx for a
 * POST, it retries nothing: a connection refused or cut before the answer is a 502 to the client, who may retry
 * (and then lands on the next instance). An upstream that refused a connection is skipped for EJECT_MS (passive
 * health checking); it does not probe /readyz, so an instance that is up but cannot serve still gets its share.
 */
export class RoundRobinProxy {
  private readonly pools: Pool[];
  private next = 0;
  private readonly server = http.createServer((req, res) => this.forward(req, res));
  readonly gatewayErrors: Record<GatewayFailure, number> = { refused: 0, cut: 0 };

  constructor(upstreams: Upstream[]) {
    // Closed by us before an instance's 65 s keep-alive timeout would close them: no request races a closing socket.
    this.pools = upstreams.map((u) => ({ ...u, agent: new http.Agent({ keepAlive: true, maxSockets: 128, timeout: 60_000 }), ejectedUntil: 0 }));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  private pick(): Pool {
    const now = Date.now();
    for (let i = 0; i < this.pools.length; i++) {
      const pool = this.pools[(this.next + i) % this.pools.length]!;
      if (pool.ejectedUntil <= now) {
        this.next = (this.next + i + 1) % this.pools.length;
        return pool;
      }
    }
    // All of them failed lately: try the next one anyway rather than refuse without asking.
    return this.pools[this.next++ % this.pools.length]!;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const pool = this.pick();
    const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const upstream = http.request({
      host: '127.0.0.1',
      port: pool.port,
      method: req.method,
      path: req.url,
      agent: pool.agent,
      headers: { ...forwardable(req.headers), 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'http' },
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode!, { ...forwardable(answer.headers), [UPSTREAM_HEADER]: pool.name });
      answer.pipe(res);
      // Cut in the middle of the body: the client must see a broken answer, not a short one.
      answer.on('close', () => {
        if (!answer.complete) res.destroy();
      });
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const failure: GatewayFailure = err.code === 'ECONNREFUSED' ? 'refused' : 'cut';
      if (failure === 'refused') pool.ejectedUntil = Date.now() + EJECT_MS;
      this.gatewayErrors[failure]++;
      res.writeHead(502, { 'content-type': 'application/json', [UPSTREAM_HEADER]: pool.name });
      res.end(JSON.stringify({ error: 'bad_gateway', failure, error_description: `${pool.name}: ${err.code ?? err.message}` }));
    });
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    for (const pool of this.pools) pool.agent.destroy();
  }
}
