import type { Context } from 'koa';
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

/** Answers the request with jsonRpcError's answer. */
export function answerJsonRpcError(ctx: Context, status: number, code: number, message: string): void {
  answerWithKoa(ctx, jsonRpcError(status, code, message));
}
