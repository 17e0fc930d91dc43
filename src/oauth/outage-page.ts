import type { Context } from 'koa';
import { STORAGE_RETRY_AFTER_SECONDS } from '../../config/storage-outages.js';
import { sendPage } from '../http/render.js';

/**
 * The answer to a provider page (the return from a sign-in, a device code page, the sign-out confirmation) whose
 * request failed on storage: adapters/spend-last.ts has kept the browser's session and interaction as they were, so
 * the person reloads and the step is done again. A page, never a redirect: sent back to the application with
 * temporarily_unavailable, the person had to start the sign-in over. (The redirect the provider had set up goes with
 * the status: no error answer carries a Location, see src/http/errors.ts.)
 */
export async function storageOutagePage(ctx: Context): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Retry-After', String(STORAGE_RETRY_AFTER_SECONDS));
  await sendPage(ctx, 'error', {
    title: 'Try again in a moment',
    error: 'temporarily_unavailable',
    description: 'The server cannot reach its storage right now. Reload this page in a few seconds.',
  }, 503);
}
