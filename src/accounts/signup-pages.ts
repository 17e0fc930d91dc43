import type { Context } from 'koa';
import { sendPage } from '../http/render.js';
import { PASSWORD_RULE, USERNAME_RULE } from './rules.js';

/** Where a sign-up page sits: inside a sign-in for an app (an interaction), or on its own (/signup). */
export interface SignupPlace {
  /** Where the form posts. */
  action: string;
  /** The sign-in page to go to instead. */
  signInHref: string;
  /** The app being signed in to, by name; '' on the page of its own. */
  client: string;
}

export interface RegistrationForm {
  csrf: string;
  username?: string;
  error?: string;
  status?: number;
}

/** The sign-up form, the same wherever it is shown. */
export function sendRegistrationPage(ctx: Context, place: SignupPlace, form: RegistrationForm): Promise<void> {
  return sendPage(ctx, 'register', {
    title: 'Create an account',
    ...place,
    csrf: form.csrf,
    username: form.username ?? '',
    error: form.error ?? '',
    usernameRule: USERNAME_RULE,
    passwordRule: PASSWORD_RULE,
  }, form.status);
}

/** What a sign-up page says instead of its form while SIGNUP=closed: no form, and the way to sign in. */
export function sendSignupClosedPage(ctx: Context, signInHref: string): Promise<void> {
  return sendPage(ctx, 'signup-closed', { title: 'Sign-up is closed', signInHref }, 403);
}
