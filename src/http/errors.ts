import type { Context, Middleware } from 'koa';
import { errors } from 'oidc-provider';
import type { Logger } from 'pino';
import { StorageUnavailable } from '../../adapters/errors.js';
import { STORAGE_RETRY_AFTER_SECONDS } from '../../config/storage-outages.js';
import { Problem } from './problem.js';
import { sendPage } from './render.js';

/** Put in front of routes that answer browsers, so their errors come back as a page rather than JSON. */
export const htmlErrors: Middleware = (ctx, next) => {
  ctx.state.html = true;
  return next();
};

/**
 * What the client is told of an error thrown while serving `method path`, in OAuth's format. Two kinds of error
 * are meant for the client: ours (Problem), and the provider's (errors.OIDCProviderError, thrown by its API in our
 * routes, and the base of StorageUnavailable and the limits' 429), each with its own OAuth error code. Anything else
 * is a fault: logged, and a 500 that says nothing of it.
 */
export function problemOf(err: unknown, log: Logger, method: string, path: string): Problem {
  if (err instanceof Problem) return err;
  if (err instanceof errors.OIDCProviderError && err.expose) {
    const retryAfter = err instanceof StorageUnavailable ? STORAGE_RETRY_AFTER_SECONDS : undefined;
    return new Problem(err.statusCode, err.error, err.error_description ?? err.message, retryAfter);
  }
  log.error({ err, method, path }, 'unhandled error');
  return new Problem(500, 'server_error', 'the server could not complete this request');
}

/**
 * The last line of defence: a Problem becomes its status and OAuth body (or the error page); anything else is
 * logged and answered with a bare 500, never a stack trace. Empty 404/405 answers get a body too, and a
 * wrong method on a known endpoint is a 405 with Allow, not a 404. No error answer carries a Location: a browser
 * follows none on an error status, so it could only leak where the failed request was about to send the person.
 */
export function handleErrors(log: Logger, methodsAt: (path: string) => readonly string[] | undefined): Middleware {
  return async (ctx, next) => {
    let problem: Problem | undefined;
    try {
      await next();
      // The provider renders a storage outage itself, as a 503 that does not say when to come back.
      if (ctx.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', String(STORAGE_RETRY_AFTER_SECONDS));
      const allowed = ctx.body == null && ctx.status === 404 ? methodsAt(ctx.path) : undefined;
      if (allowed && !allowed.includes(ctx.method)) {
        ctx.status = 405;
        ctx.set('Allow', allowed.join(', '));
      }
      if (ctx.body == null && ctx.status === 404) {
        problem = new Problem(404, 'not_found', `no such endpoint: ${ctx.method} ${ctx.path}`);
      } else if (ctx.body == null && ctx.status === 405) {
        problem = new Problem(405, 'invalid_request', `${ctx.method} is not allowed here (allowed: ${ctx.response.get('Allow')})`);
      }
    } catch (err) {
      problem = problemOf(err, log, ctx.method, ctx.path);
    }
    if (problem) await answer(ctx, problem);
    if (ctx.status >= 400) ctx.remove('Location');
  };
}

async function answer(ctx: Context, problem: Problem): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
  if (ctx.state.html) {
    await sendPage(ctx, 'error', { title: 'Something went wrong', error: problem.error, description: problem.description }, problem.status);
  } else {
    ctx.status = problem.status;
    ctx.body = problem.body;
  }
}
