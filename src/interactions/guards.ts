import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { Problem } from '../http/problem.js';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionState {
  interaction: InteractionDetails;
}

const expired = () => new Problem(400, 'invalid_request',
  'This sign-in page has expired or was opened in another browser. Go back to the application and start again.');

/** Loads the interaction this browser is in, and refuses a URL that names another one. */
export function loadInteraction(provider: Provider) {
  return async function loadTheInteraction(ctx: Context, next: Next) {
    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      if (err instanceof Error && err.name === 'SessionNotFound') throw expired();
      throw err;
    }
    if (details.uid !== ctx.params.uid) throw expired();
    (ctx.state as InteractionState).interaction = details;
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

/** Refuses form posts that a browser marks as coming from another site. */
export async function sameOriginPost(ctx: Context, next: Next) {
  const site = ctx.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') {
    throw new Problem(403, 'invalid_request', 'This form can only be submitted from this site.');
  }
  await next();
}
