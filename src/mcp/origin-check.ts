import type { Middleware } from 'koa';
import { JSON_RPC, JsonRpcRefusal } from './json-rpc.js';

export interface OriginPolicy {
  issuer: string;
  /** Origins allowed besides the issuer's, e.g. a browser-based MCP host calling /mcp directly. */
  allowedOrigins: readonly string[];
  /** Host header values allowed besides the issuer's host, e.g. an instance's address behind a load balancer. */
  allowedHosts: readonly string[];
}

/** Why a request naming this Origin (absent: '') and Host header is refused, or undefined when it passes. */
export type OriginRefusal = (origin: string, host: string | undefined) => string | undefined;

/**
 * DNS-rebinding protection (the MCP Streamable HTTP transport's MUST): a web page whose name was re-pointed at
 * this server reaches it from the browser with the page's own Origin and Host. Requests naming an origin or
 * host we do not serve are refused before anything else happens. Requests without Origin (MCP hosts that are
 * not browsers) pass the origin check; the Host check applies to all.
 */
export function originRefusal({ issuer, allowedOrigins, allowedHosts }: OriginPolicy): OriginRefusal {
  const { protocol, origin, host } = new URL(issuer);
  const origins = new Set([origin, ...allowedOrigins]);
  const hosts = new Set([host, ...allowedHosts.map((h) => normalHost(protocol, h))]);
  // The Host header of nearly every request is one of the allowed values exactly: no need to parse it.
  const exact = new Set([...hosts].filter((h) => h !== undefined && normalHost(protocol, h) === h));
  return (requestOrigin, requestHost) => {
    if (requestOrigin && !origins.has(requestOrigin)) {
      return `Origin ${requestOrigin} is not allowed to call this MCP server (its operator can add it to MCP_ALLOWED_ORIGINS)`;
    }
    if (requestHost !== undefined && exact.has(requestHost)) return undefined;
    const normal = normalHost(protocol, requestHost ?? '');
    if (!normal || !hosts.has(normal)) {
      return `Host ${requestHost ?? '(none)'} is not allowed: use ${issuer} (or the operator can add it to MCP_ALLOWED_HOSTS)`;
    }
    return undefined;
  };
}

/** The origin and host check as the /mcp route's middleware: a refusal is a JSON-RPC error (403). */
export function originCheck(refusal: OriginRefusal): Middleware {
  return async function originCheck(ctx, next) {
    // The raw Host header: ctx.host is pinned to the issuer (src/http/canonical-origin.ts), so it would always pass.
    const refused = refusal(ctx.get('origin'), ctx.req.headers.host);
    if (refused) throw new JsonRpcRefusal(403, JSON_RPC.SERVER_ERROR, refused);
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
