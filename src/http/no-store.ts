import type { Middleware } from 'koa';

/** Answers at these paths are never cached, for endpoints of the provider's that do not say so themselves. */
export function noStore(...paths: string[]): Middleware {
  return async (ctx, next) => {
    if (paths.includes(ctx.path)) ctx.set('Cache-Control', 'no-store');
    await next();
  };
}
