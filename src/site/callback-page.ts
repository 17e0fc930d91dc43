import type { Middleware } from 'koa';
import { sendPage } from '../http/render.js';

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? '';

/**
 * GET /callback: client1's redirect target. It shows the code for the seed's manual code entry: the user
 * copies it into the command-line app. The code is a credential, so the page is never cached.
 */
export const callbackPage: Middleware = async (ctx) => {
  const { code, state, iss, error, error_description: description } = ctx.query;
  ctx.set('Cache-Control', 'no-store');
  await sendPage(ctx, 'callback', {
    title: error ? 'Authorization failed' : 'Authorization code',
    code: first(code),
    state: first(state),
    iss: first(iss),
    error: first(error),
    description: first(description),
  }, error || !code ? 400 : 200);
};
