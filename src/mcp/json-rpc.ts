import type { Middleware } from 'koa';
import { answerWithKoa, jsonAnswer, type McpAnswer } from './answer.js';

/** JSON-RPC 2.0 error codes used at the HTTP edge of /mcp, before any message reaches the SDK. */
export const JSON_RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  /** The implementation-defined server error the SDK's transport uses for requests it refuses. */
  SERVER_ERROR: -32000,
} as const;

/**
 * The answer to a request to /mcp that is refused before any message in it is looked at, in JSON-RPC's shape so MCP
 * clients read it like the transport's other errors. It has no `id`, as the MCP transport spec says.
 */
export const jsonRpcError = (status: number, code: number, message: string): McpAnswer =>
  jsonAnswer(status, { jsonrpc: '2.0', error: { code, message } });

/** A request to /mcp refused before any message in it reaches the SDK: thrown by the route's steps. */
export class JsonRpcRefusal extends Error {
  constructor(readonly status: number, readonly code: number, message: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'JsonRpcRefusal';
  }
}

/**
 * The edge of JSON-RPC's wire format, first among /mcp's steps: a JsonRpcRefusal becomes its jsonRpcError answer.
 * Anything else goes on to the OAuth error edge (src/http/errors.ts): a token's 401 and 403 are OAuth's (RFC 6750),
 * as is a 503 when storage is away.
 */
export const jsonRpcErrors: Middleware = async function jsonRpcErrors(ctx, next) {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof JsonRpcRefusal)) throw err;
    for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
    answerWithKoa(ctx, jsonRpcError(err.status, err.code, err.message));
  }
};
