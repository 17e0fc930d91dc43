import type { Middleware } from 'koa';
import type { AfterStep } from './route-table.js';

/** For answers that depend on who asks (their session, a form's token, a secret): never cached. */
export const noStore: Middleware = (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  return next();
};

/** The same, once the provider has answered, for its endpoints whose answers do not say it themselves. */
export const answerNotCached: AfterStep = (ctx) => {
  ctx.set('Cache-Control', 'no-store');
};
