import type { Middleware } from 'koa';
import type { AccountService } from '../accounts/accounts.js';
import { checkSignInForm } from '../accounts/credentials-form.js';
import { readForm } from '../http/body.js';
import { Problem } from '../http/problem.js';
import { formExpired } from '../interactions/csrf.js';
import type { SignIn } from '../oauth/sign-in.js';
import type { FindSignedInUser } from '../oauth/signed-in-user.js';
import type { ConnectedApps } from './connected-apps.js';
import type { AccountFormTokens } from './form-tokens.js';
import { connectedAppsPages as pages } from './pages.js';

/**
 * /account: the apps a user has allowed, each with a Revoke button. The user is whoever the provider's session
 * cookie says (the one /oauth/authorize uses); a browser without one gets a sign-in form that makes one.
 */
export type ConnectedAppsSteps = Record<'page' | 'signIn' | 'revoke', Middleware>;

export function connectedAppsSteps(
  viewer: FindSignedInUser,
  accounts: AccountService,
  signIn: SignIn,
  apps: ConnectedApps,
  tokens: AccountFormTokens,
): ConnectedAppsSteps {
  const accountPage: Middleware = async (ctx) => {
    const who = await viewer(ctx);
    if (!who) return pages.signIn(ctx, { csrf: tokens.issue(ctx) });
    await pages.apps(ctx, {
      csrf: tokens.issue(ctx, who.sessionUid),
      username: who.account.username,
      apps: await apps.list(who.account.id),
    });
  };

  const signInHere: Middleware = async (ctx) => {
    const form = await readForm(ctx);
    // Bound to the browser only: signing in again, as someone else, from a second tab is allowed.
    if (!tokens.verify(ctx, form.csrf)) throw formExpired();
    const checked = await checkSignInForm(accounts, form, ctx.ip);
    if ('error' in checked) return pages.signIn(ctx, { csrf: tokens.issue(ctx), username: form.username, ...checked });
    await signIn(ctx, checked.account.id);
    ctx.status = 303;
    ctx.redirect('/account');
  };

  const revoke: Middleware = async (ctx) => {
    const form = await readForm(ctx);
    const who = await viewer(ctx);
    if (!who) throw new Problem(401, 'login_required', 'You are signed out. Open Connected apps, sign in and try again.');
    if (!tokens.verify(ctx, form.csrf, who.sessionUid)) throw formExpired();
    if (!(await apps.revoke(who.account.id, ctx.params.clientId!))) {
      throw new Problem(404, 'not_found', 'No app with this id is connected to your account.');
    }
    ctx.status = 303;
    ctx.redirect('/account');
  };

  return { page: accountPage, signIn: signInHere, revoke };
}
