import type { Context, Middleware } from 'koa';

/**
 * Whether a request to a page that scripts may use too wants JSON: a GET that prefers application/json to HTML, or a
 * POST whose body is JSON. Anything else is a browser's, and is answered with pages.
 */
export const wantsJson = (ctx: Context): boolean =>
  (ctx.method === 'GET' || ctx.method === 'HEAD' ? ctx.accepts('html', 'json') === 'json' : Boolean(ctx.is('application/json')));

/** In front of such routes: their errors come back as a page to browsers, as {error, error_description} to scripts. */
export const pageOrJsonErrors: Middleware = (ctx, next) => {
  ctx.state.html = !wantsJson(ctx);
  return next();
};
