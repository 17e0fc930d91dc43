import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Context, Middleware } from 'koa';
import { cors } from '../http/cors.js';
import { answerWithKoa } from './answer.js';
import type { McpEndpoint } from './endpoint.js';
import { JSON_RPC, JsonRpcRefusal, jsonRpcErrors } from './json-rpc.js';
import { readMessages } from './messages.js';
import { originCheck } from './origin-check.js';

/**
 * What browser-based hosts may send to /mcp and its metadata: the 2025 revisions' headers, and the 2026-07-28
 * ones that name the method and its target on every request.
 */
const MCP_REQUEST_HEADERS = [
  'authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id', 'mcp-method', 'mcp-name',
];

interface McpState {
  auth: AuthInfo;
  messages: unknown;
}

const state = (ctx: Context) => ctx.state as McpState;

/**
 * The steps of the MCP resource server's routes (src/routes.ts): its metadata, and /mcp, where every request passes,
 * in order, CORS, the origin and host check and the bearer check; then every POST the body limit and the scope
 * check before the SDK sees it. The edge (edge.ts) answers the plainest POSTs before they reach these steps, with
 * the same checks.
 */
export function mcpSteps(endpoint: McpEndpoint) {
  const { bearer, requireScopes, serve } = endpoint;
  return {
    metadataCors: cors({ methods: ['GET'], allowHeaders: MCP_REQUEST_HEADERS }),
    // GET and DELETE are allowed cross-origin so that a browser host reads our 401 or 405, not a CORS failure.
    mcpCors: cors({
      methods: ['GET', 'POST', 'DELETE'],
      allowHeaders: MCP_REQUEST_HEADERS,
      exposeHeaders: ['WWW-Authenticate', 'Mcp-Session-Id', 'Retry-After'],
    }),
    originCheck: originCheck(endpoint.originRefusal),
    /** Whatever the method: a request without a valid token learns where to get one (RFC 6750 section 3). */
    bearer: async function bearerToken(ctx, next) {
      state(ctx).auth = await bearer.authenticate(ctx);
      await next();
    } satisfies Middleware,
    jsonRpcErrors,
    /** Stateless: no server-to-client stream (GET) and no session to end (DELETE). */
    postOnly: async function postOnly(ctx, next) {
      if (ctx.method === 'POST') return next();
      throw new JsonRpcRefusal(405, JSON_RPC.SERVER_ERROR,
        `${ctx.method} is not supported: this server is stateless, send each JSON-RPC message with POST`, { Allow: 'POST' });
    } satisfies Middleware,
    body: async function jsonRpcBody(ctx, next) {
      state(ctx).messages = await readMessages(ctx);
      await next();
    } satisfies Middleware,
    scopes: async function toolScopes(ctx, next) {
      requireScopes(ctx, state(ctx).auth, state(ctx).messages);
      await next();
    } satisfies Middleware,
    serve: async function mcpServer(ctx) {
      const { auth, messages } = state(ctx);
      answerWithKoa(ctx, await serve({ url: ctx.href, headers: ctx.req.headers }, messages, auth));
    } satisfies Middleware,
  };
}
