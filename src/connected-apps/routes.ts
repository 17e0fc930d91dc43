import Router from '@koa/router';
import type { AccountService } from '../accounts/accounts.js';
import { checkSignInForm } from '../accounts/credentials-form.js';
import { readForm } from '../http/body.js';
import { htmlErrors } from '../http/errors.js';
import { Problem } from '../http/problem.js';
import { formExpired } from '../interactions/csrf.js';
import { sameOriginPost } from '../interactions/guards.js';
import type { SignIn } from '../oauth/sign-in.js';
import type { FindSignedInUser } from '../oauth/signed-in-user.js';
import type { ConnectedApps } from './connected-apps.js';
import type { AccountFormTokens } from './form-tokens.js';
import { connectedAppsPages as pages } from './pages.js';

/**
 * /account: the apps a user has allowed, each with a Revoke button. The user is whoever the provider's session
 * cookie says (the one /oauth/authorize uses); a browser without one gets a sign-in form that makes one.
 */
export function connectedAppsRoutes(
  viewer: FindSignedInUser,
  accounts: AccountService,
  signIn: SignIn,
  apps: ConnectedApps,
  tokens: AccountFormTokens,
): Router {
  const router = new Router({ prefix: '/account' });

  router.get('/', htmlErrors, async (ctx) => {
    const who = await viewer(ctx);
    if (!who) return pages.signIn(ctx, { csrf: tokens.issue(ctx) });
    await pages.apps(ctx, {
      csrf: tokens.issue(ctx, who.sessionUid),
      username: who.account.username,
      apps: await apps.list(who.account.id),
    });
  });

  router.post('/sign-in', htmlErrors, sameOriginPost, async (ctx) => {
    const form = await readForm(ctx);
    // Bound to the browser only: signing in again, as someone else, from a second tab is allowed.
    if (!tokens.verify(ctx, form.csrf)) throw formExpired();
    const checked = await checkSignInForm(accounts, form, ctx.ip);
    if ('error' in checked) return pages.signIn(ctx, { csrf: tokens.issue(ctx), username: form.username, ...checked });
    await signIn(ctx, checked.account.id);
    ctx.status = 303;
    ctx.redirect('/account');
  });

  router.post('/apps/:clientId/revoke', htmlErrors, sameOriginPost, async (ctx) => {
    const form = await readForm(ctx);
    const who = await viewer(ctx);
    if (!who) throw new Problem(401, 'login_required', 'You are signed out. Open Connected apps, sign in and try again.');
    if (!tokens.verify(ctx, form.csrf, who.sessionUid)) throw formExpired();
    if (!(await apps.revoke(who.account.id, ctx.params.clientId!))) {
      throw new Problem(404, 'not_found', 'No app with this id is connected to your account.');
    }
    ctx.status = 303;
    ctx.redirect('/account');
  });

  return router;
}
