import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { readJson, readJsonBody } from '../http/body.js';
import { Problem } from '../http/problem.js';
import { JSON_RPC, JsonRpcRefusal } from './json-rpc.js';

/**
 * 1 MiB: far above any message of our tools (a note is at most 2,000 characters), with room for tools a user
 * adds, while still bounding what one request can cost. Read only after the bearer check.
 */
export const MCP_BODY_LIMIT = 1024 * 1024;

/** Bodies the edge (edge.ts) read before it handed the request on to the Koa route, which then answers it. */
const readAtTheEdge = new WeakMap<IncomingMessage, Promise<unknown>>();

/**
 * The edge's read of a body whose Content-Type it found to be application/json: the same read as readMessages',
 * kept for the route in case the edge hands the request on.
 */
export function readMessagesAtTheEdge(req: IncomingMessage): Promise<unknown> {
  const reading = readJsonBody(req, MCP_BODY_LIMIT);
  readAtTheEdge.set(req, reading);
  return reading;
}

/**
 * The parsed JSON body of a POST to /mcp: one JSON-RPC message or a batch. A body it refuses is a JsonRpcRefusal: a
 * parse error (-32700) for bytes that are not JSON, invalid request (-32600) for a body that is too large or not
 * declared as JSON.
 */
export async function readMessages(ctx: Context): Promise<unknown> {
  try {
    return await (readAtTheEdge.get(ctx.req) ?? readJson(ctx, MCP_BODY_LIMIT));
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    const code = err.status === 400 ? JSON_RPC.PARSE_ERROR : JSON_RPC.INVALID_REQUEST;
    throw new JsonRpcRefusal(err.status, code, `${code === JSON_RPC.PARSE_ERROR ? 'Parse error' : 'Invalid request'}: ${err.description}`);
  }
}

/**
 * The names of the tools the body calls (`tools/call` requests), in a single message or a batch. Anything
 * that is not a well-formed call is left for the SDK to answer.
 */
export function calledTools(body: unknown): string[] {
  return [body].flat().flatMap((message) => {
    if (typeof message !== 'object' || message === null) return [];
    const { method, params } = message as { method?: unknown; params?: { name?: unknown } };
    return method === 'tools/call' && typeof params?.name === 'string' ? [params.name] : [];
  });
}
