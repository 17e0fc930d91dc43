import type { Middleware } from 'koa';
import { answerJsonRpcError, JSON_RPC } from './json-rpc.js';

export interface OriginPolicy {
  issuer: string;
  /** Origins allowed besides the issuer's, e.g. a browser-based MCP host calling /mcp directly. */
  allowedOrigins: readonly string[];
  /** Host header values allowed besides the issuer's host, e.g. an instance's address behind a load balancer. */
  allowedHosts: readonly string[];
}

/**
 * DNS-rebinding protection (the MCP Streamable HTTP transport's MUST): a web page whose name was re-pointed at
 * this server reaches it from the browser with the page's own Origin and Host. Requests naming an origin or
 * host we do not serve are refused before anything else happens. Requests without Origin (MCP hosts that are
 * not browsers) pass the origin check; the Host check applies to all.
 */
export function originCheck({ issuer, allowedOrigins, allowedHosts }: OriginPolicy): Middleware {
  const { protocol, origin, host } = new URL(issuer);
  const origins = new Set([origin, ...allowedOrigins]);
  const hosts = new Set([host, ...allowedHosts.map((h) => normalHost(protocol, h))]);
  return async (ctx, next) => {
    const requestOrigin = ctx.get('origin');
    if (requestOrigin && !origins.has(requestOrigin)) {
      return answerJsonRpcError(ctx, 403, JSON_RPC.SERVER_ERROR,
        `Origin ${requestOrigin} is not allowed to call this MCP server (its operator can add it to MCP_ALLOWED_ORIGINS)`);
    }
    // The raw header: ctx.host is pinned to the issuer (src/http/canonical-origin.ts), so it would always pass.
    const requestHost = normalHost(protocol, ctx.req.headers.host ?? '');
    if (!requestHost || !hosts.has(requestHost)) {
      return answerJsonRpcError(ctx, 403, JSON_RPC.SERVER_ERROR,
        `Host ${ctx.req.headers.host ?? '(none)'} is not allowed: use ${issuer} (or the operator can add it to MCP_ALLOWED_HOSTS)`);
    }
    await next();
  };
}

/** How a URL of the issuer's scheme would spell this host: lower case, the scheme's default port dropped. */
function normalHost(protocol: string, host: string): string | undefined {
  const url = `${protocol}//${host}`;
  if (!host || !URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  // A Host header is host[:port] and nothing else; anything more is not a host we serve.
  return parsed.pathname === '/' && !parsed.username && !parsed.password && !parsed.search && !parsed.hash ? parsed.host : undefined;
}
