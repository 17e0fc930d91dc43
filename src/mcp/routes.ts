import Router from '@koa/router';
import { MCP_PATH } from '../../config/resource-server.js';
import { cors } from '../http/cors.js';
import { answerWithKoa } from './answer.js';
import type { McpEndpoint } from './endpoint.js';
import { answerJsonRpcError, JSON_RPC } from './json-rpc.js';
import { readMessages } from './messages.js';
import { originCheck } from './origin-check.js';
import { PRM_PATHS, protectedResourceMetadata } from './protected-resource-metadata.js';

/**
 * What browser-based hosts may send to /mcp and its metadata: the 2025 revisions' headers, and the 2026-07-28
 * ones that name the method and its target on every request.
 */
const MCP_REQUEST_HEADERS = [
  'authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id', 'mcp-method', 'mcp-name',
];

/**
 * The MCP resource server: its metadata, and /mcp, where every request passes, in order, CORS, the origin and
 * host check and the bearer check; then every POST the body limit and the scope check before the SDK sees it.
 * The edge (edge.ts) answers the plainest POSTs before they reach this route, with the same checks.
 */
export function mcpRoutes(endpoint: McpEndpoint, issuer: string): Router {
  const { bearer, requireScopes, serve } = endpoint;
  // Exact paths only: the resource is exactly <issuer>/mcp, and CORS applies by exact path.
  const router = new Router({ strict: true, sensitive: true });

  router.all([...PRM_PATHS], cors({ paths: PRM_PATHS, methods: ['GET'], allowHeaders: MCP_REQUEST_HEADERS }),
    protectedResourceMetadata(issuer));

  router.all(
    MCP_PATH,
    // GET and DELETE are allowed cross-origin so that a browser host reads our 401 or 405, not a CORS failure.
    cors({
      paths: [MCP_PATH],
      methods: ['GET', 'POST', 'DELETE'],
      allowHeaders: MCP_REQUEST_HEADERS,
      exposeHeaders: ['WWW-Authenticate', 'Mcp-Session-Id', 'Retry-After'],
    }),
    originCheck(endpoint.originRefusal),
    async (ctx) => {
      // Whatever the method: a request without a valid token learns where to get one (RFC 6750 section 3).
      const auth = await bearer.authenticate(ctx);
      if (ctx.method !== 'POST') {
        // Stateless: no server-to-client stream (GET) and no session to end (DELETE).
        ctx.set('Allow', 'POST');
        return answerJsonRpcError(ctx, 405, JSON_RPC.SERVER_ERROR,
          `${ctx.method} is not supported: this server is stateless, send each JSON-RPC message with POST`);
      }
      const body = await readMessages(ctx);
      if (body === undefined) return;
      requireScopes(ctx, auth, body);
      answerWithKoa(ctx, await serve({ url: ctx.href, headers: ctx.req.headers }, body, auth));
    },
  );
  return router;
}
