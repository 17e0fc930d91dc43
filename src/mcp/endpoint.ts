import type Provider from 'oidc-provider';
import type { Stores } from '../../adapters/stores.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../log.js';
import { tools } from '../tools/index.js';
import { bearerCheck, type BearerCheck } from './bearer.js';
import { bearerChallenges, type BearerChallenges } from './challenge.js';
import { legacyHttp } from './legacy-http.js';
import { declaresParamHeaders, mcpServerFactory, type ToolCallRecorder } from './mcp-server.js';
import { modernHttp } from './modern-http.js';
import { originRefusal, type OriginRefusal } from './origin-check.js';
import { scopeCheck, scopeDenials, type ScopeDenials } from './scope-check.js';
import { streamableHttp, type McpPostHandler } from './streamable-http.js';
import { TokenCache } from './token-cache.js';

export interface McpParts {
  /** Replaces the bearer check; only the benchmark does, to measure what the check costs. */
  bearer?: BearerCheck;
  /** Told the outcome of every tool call (metrics). */
  onToolCall?: ToolCallRecorder;
  config: Config;
  issuer: string;
  provider: Provider;
  stores: Stores;
  log: Logger;
}

/** The checks and the serving of /mcp, built once and shared by its Koa route (routes.ts) and its edge (edge.ts). */
export interface McpEndpoint {
  challenges: BearerChallenges;
  originRefusal: OriginRefusal;
  bearer: BearerCheck;
  /** The calls the token may not make (pure); requireScopes refuses them with a challenge. */
  scopeDenials: ScopeDenials;
  requireScopes: ReturnType<typeof scopeCheck>;
  serve: McpPostHandler;
  /** Ends the streams that outlive a request (2026-07-28 subscriptions), at shutdown. */
  close(): Promise<void>;
}

export function mcpEndpoint(parts: McpParts): McpEndpoint {
  const { config, issuer, provider, stores, log } = parts;
  const challenges = bearerChallenges(issuer);
  const bearer = parts.bearer ?? bearerCheck(provider, stores.accounts, issuer, challenges, new TokenCache(stores.invalidations));
  const record = parts.onToolCall ?? (() => {});
  const denials = scopeDenials(tools);
  // One factory for both eras, so they serve the same tools: one long-lived server shared by every 2025 request
  // in flight (legacy-http.ts), pooled servers for 2026-07-28 (modern-http.ts), whose direct lane is off if a tool
  // declares header parameters.
  const createServer = mcpServerFactory(tools, stores.notes, log, record);
  const modern = modernHttp(createServer, log, { directLane: !tools.some(declaresParamHeaders) });
  return {
    challenges,
    originRefusal: originRefusal({ issuer, ...config.mcp }),
    bearer,
    scopeDenials: denials,
    requireScopes: scopeCheck(denials, challenges, (tool) => record(tool, 'denied')),
    serve: streamableHttp(legacyHttp(createServer()), modern.serve),
    close: modern.close,
  };
}
