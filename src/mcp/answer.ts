import { pipeline, Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';

/**
 * What /mcp answers a POST with, before it is written: the Koa route and the edge (edge.ts) write the same
 * answers, each to its own response object.
 */
export interface McpAnswer {
  status: number;
  /** Names in lower case; Content-Type is among them whenever there is a body. */
  headers: Record<string, string>;
  /** JSON text, a stream (a 2026-07-28 tool that reports progress before its result), or nothing (202). */
  body: string | ReadableStream<Uint8Array> | null;
}

/** A JSON answer that no cache keeps, as Koa sends an object body. */
export const jsonAnswer = (status: number, value: unknown, headers: Record<string, string> = {}): McpAnswer => ({
  status,
  headers: { 'cache-control': 'no-store', ...headers, 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(value),
});

/** Sets the answer on a Koa context. The status goes last: Koa would turn the empty body of a 202 into a 204. */
export function answerWithKoa(ctx: Context, answer: McpAnswer): void {
  for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
  ctx.body = answer.body;
  ctx.status = answer.status;
}

/**
 * Writes the answer on a bare node:http response, with the same headers Koa's response would carry: a text body
 * gets its Content-Length, no body gets Content-Length 0 and no Content-Type, a stream is piped as it comes.
 */
export function writeAnswer(res: ServerResponse, answer: McpAnswer): void {
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  const { body } = answer;
  if (body === null) {
    res.removeHeader('content-type');
    res.setHeader('content-length', 0);
    res.end();
  } else if (typeof body === 'string') {
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
  } else {
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/octet-stream');
    // As Koa: a failing stream ends the response; there is nobody left to tell.
    pipeline(Readable.from(body), res, () => {});
  }
}
