import Router from '@koa/router';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Stores } from '../../adapters/stores.js';
import type { Config } from '../../config/env.js';
import { MCP_PATH } from '../../config/resource-server.js';
import { cors } from '../http/cors.js';
import type { Logger } from '../log.js';
import { tools } from '../tools/index.js';
import { bearerCheck } from './bearer.js';
import { bearerChallenges } from './challenge.js';
import { answerJsonRpcError, JSON_RPC } from './json-rpc.js';
import { legacyHttp } from './legacy-http.js';
import { mcpServerFactory, type ToolCallRecorder } from './mcp-server.js';
import { readMessages } from './messages.js';
import { originCheck } from './origin-check.js';
import { PRM_PATHS, protectedResourceMetadata } from './protected-resource-metadata.js';
import { modernHttp } from './modern-http.js';
import { scopeCheck } from './scope-check.js';
import { streamableHttp } from './streamable-http.js';
import { TokenCache } from './token-cache.js';

/** Who calls, from the request: the bearer check, unless replaced (the benchmark measures its cost so). */
export type Authenticate = (ctx: Context) => Promise<AuthInfo>;

export interface McpParts {
  authenticate?: Authenticate;
  /** Told the outcome of every tool call (metrics). */
  onToolCall?: ToolCallRecorder;
  config: Config;
  issuer: string;
  provider: Provider;
  stores: Stores;
  log: Logger;
}

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
 */
export function mcpRoutes(parts: McpParts): Router {
  const { config, issuer, provider, stores, log } = parts;
  const challenges = bearerChallenges(issuer);
  const authenticate = parts.authenticate ?? bearerCheck(provider, stores.accounts, issuer, challenges, new TokenCache(stores.invalidations));
  const record = parts.onToolCall ?? (() => {});
  const requireScopes = scopeCheck(tools, challenges, (tool) => record(tool, 'denied'));
  // One factory for both eras, so they serve the same tools: one long-lived server shared by every 2025 request
  // in flight (legacy-http.ts), pooled servers for 2026-07-28 (modern-http.ts).
  const createServer = mcpServerFactory(tools, stores.notes, log, record);
  const serve = streamableHttp(legacyHttp(createServer()), modernHttp(createServer, log));
  // Exact paths only: the resource is exactly <issuer>/mcp, and CORS applies by exact path.
  const router = new Router({ strict: true, sensitive: true });

  router.all([...PRM_PATHS], cors({ paths: PRM_PATHS, methods: ['GET'], allowHeaders: MCP_REQUEST_HEADERS }),
    protectedResourceMetadata(issuer));

  router.all(
    MCP_PATH,
    // GET and DELETE are allowed cross-origin so that a browser host reads our 405, not a CORS failure.
    cors({
      paths: [MCP_PATH],
      methods: ['GET', 'POST', 'DELETE'],
      allowHeaders: MCP_REQUEST_HEADERS,
      exposeHeaders: ['WWW-Authenticate', 'Mcp-Session-Id', 'Retry-After'],
    }),
    originCheck({ issuer, ...config.mcp }),
    async (ctx) => {
      // Whatever the method: a request without a valid token learns where to get one (RFC 6750 section 3).
      const auth = await authenticate(ctx);
      if (ctx.method !== 'POST') {
        // Stateless: no server-to-client stream (GET) and no session to end (DELETE).
        ctx.set('Allow', 'POST');
        return answerJsonRpcError(ctx, 405, JSON_RPC.SERVER_ERROR,
          `${ctx.method} is not supported: this server is stateless, send each JSON-RPC message with POST`);
      }
      const body = await readMessages(ctx);
      if (body === undefined) return;
      requireScopes(ctx, auth, body);
      await serve(ctx, body, auth);
    },
  );
  return router;
}
