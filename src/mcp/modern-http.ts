import type { IncomingHttpHeaders } from 'node:http';
import {
  createMcpHandler, isJsonContentType, PerRequestHTTPServerTransport, ProtocolErrorCode, SUPPORTED_PROTOCOL_VERSIONS,
  type AuthInfo, type InboundLadderRejection, type InboundModernRoute, type McpServer,
} from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import type { McpAnswer } from './answer.js';
import { MODERN_REVISION, type McpServerFactory } from './mcp-server.js';
import type { McpRequest, ModernPostHandler } from './streamable-http.js';

/** The methods the direct lane serves: what a host sends nearly every time, and whose pre-dispatch steps are checked below. */
const DIRECT_METHODS = new Set(['tools/call', 'tools/list', 'server/discover']);

/**
 * A tool name the SDK reads from an Mcp-Name header exactly as it is written: no whitespace around it to strip,
 * and nothing of the `=?base64?…?=` form the SDK would decode first. The MCP spec's tool-name characters.
 */
const PLAIN_NAME = /^[A-Za-z0-9_.-]+$/;

type ModernRequestRoute = Extract<InboundModernRoute, { messageKind: 'request' }>;

/**
 * Whether `createMcpHandler` would certainly hand this request on to dispatch as it is, so that connecting a pooled
 * server to a PerRequestHTTPServerTransport (the public part the entry serves with) gives the same answer. The
 * entry's steps before dispatch, in its order (`serveModern` in @modelcontextprotocol/server 2.4.0):
 * - Content-Type must be JSON (415): checked here with the SDK's own test.
 * - The body is read and classified: our classification (streamable-http.ts) is the same call on the same body
 *   and header values.
 * - The claimed revision must be one the SDK serves: here only MODERN_REVISION (a server binds to it on connect
 *   only if the SDK serves it).
 * - MCP-Protocol-Version and Mcp-Method must be present (the classifier checked they agree with the body; here
 *   they must also equal it byte for byte), and for tools/call Mcp-Name must decode to params.name: a plain name
 *   equal to it.
 * - Client capabilities a method requires: none of these methods requires any in this SDK version.
 * - subscriptions/listen is answered by the entry itself: not among these methods.
 * - `Mcp-Param-*` headers are checked against tools' `x-mcp-header` declarations: the lane is off when a tool
 *   declares any (declaresParamHeaders).
 * - Scope challenges of tools registered with one: ours register none; scopes are checked before (scope-check.ts).
 * - The server is bound to the revision and given server/discover: ours are built so (mcpServerFactory 'modern').
 * - The client's name and capabilities are copied from `_meta` into the server, for the deprecated
 *   getClientVersion/getClientCapabilities and for server-to-client requests, which this revision forbids: our
 *   tools use neither.
 * - The web Request goes with the message: handlers could read it as ctx.http.req (ours do not) and its abort
 *   signal would end the exchange (ours, built per call, is never aborted).
 * test/mcp-modern-lanes.test.ts sends the same requests both ways and compares the answers.
 */
export function servesDirectly(request: McpRequest, route: InboundModernRoute | InboundLadderRejection): route is ModernRequestRoute {
  if (route.kind !== 'modern' || route.messageKind !== 'request' || route.classification.revision !== MODERN_REVISION) return false;
  const { method, params } = route.message;
  const { headers } = request;
  if (!DIRECT_METHODS.has(method) || !isJsonContentType(headers['content-type'])) return false;
  if (headers['mcp-protocol-version'] !== MODERN_REVISION || headers['mcp-method'] !== method) return false;
  if (method !== 'tools/call') return true;
  const name = params?.name;
  return typeof name === 'string' && PLAIN_NAME.test(name) && headers['mcp-name'] === name;
}

export interface ModernEra {
  serve: ModernPostHandler;
  /**
   * Ends what outlives a request: open `subscriptions/listen` streams get their final result and end, so a
   * shutdown need not wait out its grace for hosts that listen (their tools never change here).
   */
  close(): Promise<void>;
}

/**
 * MCP revision 2026-07-28 (stateless: every request carries its version and client capabilities in `_meta`), served
 * by the SDK's own HTTP entry, `createMcpHandler`, in strict modern mode: it owns the protocol — `server/discover`,
 * the header checks (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`), the unsupported-version and capability
 * errors, `resultType`, cache fields and `serverInfo` — so this file mostly carries the request to it and its answer
 * back. The 2025 revisions never come here (streamable-http.ts routes them to legacy-http.ts).
 *
 * The entry costs about as much again as the call it serves (a web Request, the classification a second time, the
 * error object it builds when an exchange closes), so with `directLane` the requests it would certainly pass on
 * unchanged (servesDirectly) skip it: a pooled server is connected to the SDK's per-request transport, as the entry
 * itself does. Every other request, and so every refusal, is the entry's.
 *
 * The entry asks its factory for a server per request. Building one (four tools, their schemas) costs about as
 * much as serving the call, so the factory hands out servers from a pool instead: a server goes back to the pool
 * when its exchange closes it, and the entry refuses a server still serving another request, so no two requests
 * ever share one at once. Both lanes take their servers from the same pool.
 */
export function modernHttp(createServer: McpServerFactory, log: Logger, { directLane }: { directLane: boolean }): ModernEra {
  const idle: McpServer[] = [];
  const take = () => {
    const server = idle.pop() ?? createServer('modern');
    // Back to the pool when its exchange closes it (the entry chains its own close handler in front of this one).
    server.server.onclose = () => {
      server.server.onclose = undefined;
      idle.push(server);
    };
    return server;
  };
  const handler = createMcpHandler(take, {
    legacy: 'reject',
    // Refusals are answered to the client already; only failures of our own are worth a log line.
    onerror: (err) => {
      if (!/^Rejected inbound request|Unsupported protocol version|Missing required client capabilit/.test(err.message)) {
        log.error({ err }, 'MCP request failed');
      }
    },
  });

  /**
   * As the entry serves a request it passes on (its `invoke`); the transport closes itself after the answer, which
   * puts the server back. A throw is a bug (the transport rejects only when closed early, which takes an abort
   * signal): the route answers it with a 500, the entry would have too.
   */
  async function serveDirectly(route: ModernRequestRoute, authInfo: AuthInfo): Promise<Response> {
    const transport = new PerRequestHTTPServerTransport({ classification: route.classification });
    await take().connect(transport);
    return transport.handleMessage(route.message, { authInfo });
  }

  return {
    async serve(request, body, authInfo, route) {
      const response = directLane && servesDirectly(request, route)
        ? await serveDirectly(route, authInfo)
        : await handler.fetch(new Request(request.url, { method: 'POST', headers: requestHeaders(request.headers) }), { parsedBody: body, authInfo });
      return answerOf(response);
    },
    close: () => handler.close(),
  };
}

/** Every revision /mcp serves, newest first: the 2025 ones through the initialize handshake (legacy-http.ts). */
const SERVED_REVISIONS = [MODERN_REVISION, ...SUPPORTED_PROTOCOL_VERSIONS];

/** The answer, with no-store added. A JSON answer is read whole; a stream (a tool that reports progress before its result) is passed on as it comes. */
async function answerOf(response: Response): Promise<McpAnswer> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => { headers[name] = value; });
  headers['cache-control'] = 'no-store';
  const json = response.headers.get('content-type')?.startsWith('application/json');
  const body = json ? await response.text() : response.body;
  return { status: response.status, headers, body: response.status === 400 && typeof body === 'string' ? withEveryRevision(body) : body };
}

/**
 * The entry's unsupported-version answer names only the revisions it serves itself (2026-07-28); /mcp serves the
 * 2025 ones too, and a client that speaks one of those can fall back to `initialize` only if it is told so.
 */
function withEveryRevision(body: string): string {
  const answer = JSON.parse(body) as { error?: { code?: number; data?: { supported?: unknown } } };
  if (answer.error?.code !== ProtocolErrorCode.UnsupportedProtocolVersion || !answer.error.data) return body;
  answer.error.data.supported = SERVED_REVISIONS;
  return JSON.stringify(answer);
}

/** The request's headers as the fetch API takes them (Node gives repeated ones as arrays, which MCP never needs). */
function requestHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}
