import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { Problem, invalidRequest } from './problem.js';

/** About 16 KiB: credentials and forms are tiny, and a cap keeps a slow or huge body from costing us. */
export const BODY_LIMIT = 16 * 1024;

async function readRaw(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new Problem(413, 'invalid_request', `request body must be at most ${limit} bytes`);
  const declared = Number(req.headers['content-length'] || 0);
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop must not destroy the request: Node then discards the rest of an oversized body and the
  // keep-alive connection stays usable, instead of hanging with nobody reading it.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) break;
    chunks.push(chunk);
  }
  if (size > limit) {
    req.resume();
    throw tooLarge();
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw invalidRequest('request body is not valid UTF-8');
  }
}

export async function readJson(ctx: Context, limit = BODY_LIMIT): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new Problem(415, 'invalid_request', 'Content-Type must be application/json');
  }
  return readJsonBody(ctx.req, limit);
}

/** The body parsed as JSON, for a caller that checked its Content-Type already (readJson's second half). */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readRaw(req, limit);
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest('request body is not valid JSON');
  }
}

export async function readForm(ctx: Context, limit = BODY_LIMIT): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new Problem(415, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
  }
  return Object.fromEntries(new URLSearchParams(await readRaw(ctx.req, limit)));
}

/** A form's fields, posted urlencoded by a page or as a JSON object by a script; the caller validates each field. */
export async function readFormOrJson(ctx: Context, limit = BODY_LIMIT): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) {
    if (!ctx.is('application/x-www-form-urlencoded')) {
      throw new Problem(415, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded or application/json');
    }
    return readForm(ctx, limit);
  }
  const body = await readJsonBody(ctx.req, limit);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('request body must be a JSON object');
  return body as Record<string, unknown>;
}
