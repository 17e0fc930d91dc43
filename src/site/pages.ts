import type { Middleware } from 'koa';
import type { AccountService } from '../accounts/accounts.js';
import { registerFromForm } from '../accounts/credentials-form.js';
import { sendRegistrationPage, sendSignupClosedPage, type SignupPlace } from '../accounts/signup-pages.js';
import type { AccountFormTokens } from '../connected-apps/form-tokens.js';
import { readForm } from '../http/body.js';
import { formExpired } from '../interactions/csrf.js';
import type { SignIn } from '../oauth/sign-in.js';
import type { FindSignedInUser } from '../oauth/signed-in-user.js';
import { homeDocument, sendHomePage, type Openings } from './home.js';

export interface SiteParts extends Openings {
  issuer: string;
  accounts: AccountService;
  signIn: SignIn;
  viewer: FindSignedInUser;
  /** The sign-up form's CSRF tokens, bound to the browser by a cookie scoped to /signup. */
  signupTokens: AccountFormTokens;
}

/** /signup stands on its own: signing in instead is done on the connected-apps page, which signs in by itself. */
const SIGNUP: SignupPlace = { action: '/signup', signInHref: '/account', client: '' };

/**
 * The site's own pages, outside any sign-in for an app: the home page (`/`, JSON for a client that asks for it), and
 * the sign-up page it links to, which creates the account and signs the browser in, then goes back home.
 */
export function sitePages({ issuer, accounts, signIn, viewer, signupTokens, signupOpen, clientRegistrationOpen }: SiteParts): Record<'home' | 'signupPage' | 'signup', Middleware> {
  const about = homeDocument(issuer, signupOpen);

  const home: Middleware = async (ctx) => {
    ctx.vary('Accept');
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.body = about;
      return;
    }
    ctx.state.html = true;
    await sendHomePage(ctx, issuer, { signupOpen, clientRegistrationOpen }, await viewer(ctx));
  };

  const signupPage: Middleware = async (ctx) => {
    if (!signupOpen) return sendSignupClosedPage(ctx, SIGNUP.signInHref);
    await sendRegistrationPage(ctx, SIGNUP, { csrf: signupTokens.issue(ctx) });
  };

  const signup: Middleware = async (ctx) => {
    if (!signupOpen) return sendSignupClosedPage(ctx, SIGNUP.signInHref);
    const form = await readForm(ctx);
    if (!signupTokens.verify(ctx, form.csrf)) throw formExpired();
    const registered = await registerFromForm(accounts, form, ctx.ip);
    if ('error' in registered) {
      return sendRegistrationPage(ctx, SIGNUP, { csrf: signupTokens.issue(ctx), username: form.username, ...registered });
    }
    await signIn(ctx, registered.account.id);
    ctx.status = 303;
    ctx.redirect('/');
  };

  return { home, signupPage, signup };
}
