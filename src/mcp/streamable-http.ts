import type { IncomingHttpHeaders } from 'node:http';
import {
  classifyInboundRequest, type AuthInfo, type InboundClassificationOutcome, type InboundLadderRejection,
  type InboundModernRoute,
} from '@modelcontextprotocol/server';
import type { McpAnswer } from './answer.js';

/** What the handlers of a POST to /mcp read of its HTTP request besides the body. */
export interface McpRequest {
  /** Absolute, on the issuer's origin. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** Answers one POST to /mcp whose body was read and whose token was checked. */
export type McpPostHandler = (request: McpRequest, body: unknown, authInfo: AuthInfo) => Promise<McpAnswer>;

/** Answers a POST that claims revision 2026-07-28, given what the classifier made of it. */
export type ModernPostHandler = (request: McpRequest, body: unknown, authInfo: AuthInfo,
  route: InboundModernRoute | InboundLadderRejection) => Promise<McpAnswer>;

const header = (request: McpRequest, name: string) => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** The SDK's dual-era classification of a POST, from its body and its headers as the SDK's HTTP entry reads them. */
export const classify = (request: McpRequest, body: unknown): InboundClassificationOutcome => classifyInboundRequest({
  httpMethod: 'POST',
  protocolVersionHeader: header(request, 'mcp-protocol-version'),
  mcpMethodHeader: header(request, 'mcp-method'),
  mcpNameHeader: header(request, 'mcp-name'),
  body,
});

/**
 * Both protocol eras on one endpoint, decided by the SDK's own dual-era classifier: a request that carries the
 * 2026-07-28 `_meta` envelope (or claims that revision in a header) goes to `modern`, which also answers every
 * malformed or mismatched claim; everything else — `initialize`, envelope-less requests of the 2025 revisions,
 * batches, posted responses, and bodies that are no JSON-RPC at all and so claim nothing — goes to `legacy`, which
 * answers them as the 2025 transport always has.
 */
export function streamableHttp(legacy: McpPostHandler, modern: ModernPostHandler): McpPostHandler {
  return function serveStreamableHttp(request, body, authInfo) {
    const route = classify(request, body);
    const claimsNothing = route.kind === 'legacy'
      || (route.kind === 'reject' && route.rung === 'jsonrpc-shape' && route.cell !== 'batch-with-modern-element');
    return claimsNothing ? legacy(request, body, authInfo) : modern(request, body, authInfo, route);
  };
}
