import type { Middleware } from 'koa';
import type { AbuseLimits } from '../accounts/abuse-limits.js';

/** Open Dynamic Client Registration, counted per client IP: 429 in OAuth's JSON once an address registers too often. */
export function limitClientRegistrations(path: string, limits: AbuseLimits): Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === path) await limits.beforeClientRegistration(ctx.ip);
    await next();
  };
}
