import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { MCP_PATH } from '../../config/resource-server.js';
import { problemOf } from '../http/errors.js';
import { serving, type Logger } from '../log.js';
import { secondsSince, type RequestObserver } from '../ops/observe.js';
import { jsonAnswer, writeAnswer, type McpAnswer } from './answer.js';
import type { McpEndpoint } from './endpoint.js';
import { MCP_BODY_LIMIT, readMessagesAtTheEdge } from './messages.js';

export interface EdgeParts {
  endpoint: McpEndpoint;
  issuer: string;
  /** Set on every answer, first X-Request-Id, then these (src/http/security-headers.ts). */
  securityHeaders: readonly [string, string][];
  observer: RequestObserver;
  log: Logger;
}

/** Content-Types that Koa's `ctx.is('application/json')` certainly accepts; others are left to the route to judge. */
const PLAIN_JSON = new Set(['application/json', 'application/json; charset=utf-8']);

/**
 * /mcp's hot path, in front of the whole Koa app: a POST to /mcp from a host that is not a browser (no Origin),
 * on an allowed Host, with a token the bearer check knows already (cached) and a JSON body of a declared length
 * within the limit, is served here with the route's own checks and handlers (endpoint.ts), the headers and the
 * one log line and metrics the app's middleware would give it, at a fraction of the cost of Koa's machinery.
 * Every other request goes to `app` unread; so does one whose body turns out to be refused (unreadable, not
 * JSON, a call beyond the token's scopes), with the body read here handed on (messages.ts): every refusal keeps
 * its one implementation, in the route.
 */
export function mcpEdge({ endpoint, issuer, securityHeaders, observer, log }: EdgeParts, app: RequestListener): RequestListener {
  const { bearer, originRefusal, scopeDenials, serve } = endpoint;
  const { origin } = new URL(issuer);

  /** The caller, when the request is one the edge serves. */
  function servable(req: IncomingMessage): AuthInfo | undefined {
    const { headers } = req;
    if (req.method !== 'POST' || req.url !== MCP_PATH || headers.origin !== undefined) return undefined;
    if (!PLAIN_JSON.has(headers['content-type']?.toLowerCase() ?? '')) return undefined;
    // A declared length (not chunked): then Node delivers exactly that many bytes, so the limit cannot be hit.
    const length = Number(headers['content-length'] ?? NaN);
    if (!(length >= 0 && length <= MCP_BODY_LIMIT)) return undefined;
    if (originRefusal('', headers.host) !== undefined) return undefined;
    return bearer.known(headers.authorization);
  }

  async function answer(req: IncomingMessage, res: ServerResponse, auth: AuthInfo): Promise<void> {
    const started = process.hrtime.bigint();
    let body: unknown;
    try {
      body = await readMessagesAtTheEdge(req);
    } catch {
      return app(req, res);
    }
    if (scopeDenials(auth, body).length) return app(req, res);

    const requestId = observer.idOf(typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : '');
    await serving(requestId, async () => {
      let answer: McpAnswer;
      try {
        answer = await serve({ url: `${origin}${MCP_PATH}`, headers: req.headers }, body, auth);
      } catch (err) {
        const problem = problemOf(err, log, 'POST', MCP_PATH);
        answer = jsonAnswer(problem.status, problem.body, problem.retryAfter ? { 'retry-after': String(problem.retryAfter) } : {});
      }
      res.setHeader('X-Request-Id', requestId);
      for (const [name, value] of securityHeaders) res.setHeader(name, value);
      writeAnswer(res, answer);
      observer.answered('POST', MCP_PATH, answer.status, secondsSince(started));
    });
  }

  return (req, res) => {
    const auth = servable(req);
    if (auth) void answer(req, res, auth);
    else void app(req, res);
  };
}
