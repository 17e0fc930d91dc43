import type { Context } from 'koa';
import { PASSWORD_RULE, USERNAME_RULE } from '../accounts/rules.js';
import { sendPage } from '../http/render.js';
import type { CsrfTokens } from './csrf.js';
import type { InteractionDetails } from './guards.js';

export interface FormPage {
  username?: string;
  error?: string;
  status?: number;
}

/** Draws the login and registration pages of one interaction. */
export class InteractionPages {
  constructor(private readonly csrf: CsrfTokens) {}

  private common(interaction: InteractionDetails) {
    return {
      uid: interaction.uid,
      csrf: this.csrf.issue(interaction.uid),
      client: String(interaction.params.client_id ?? ''),
    };
  }

  login(ctx: Context, interaction: InteractionDetails, page: FormPage = {}) {
    return sendPage(ctx, 'login', {
      title: 'Sign in',
      ...this.common(interaction),
      username: page.username ?? '',
      error: page.error ?? '',
    }, page.status);
  }

  register(ctx: Context, interaction: InteractionDetails, page: FormPage = {}) {
    return sendPage(ctx, 'register', {
      title: 'Create an account',
      ...this.common(interaction),
      username: page.username ?? '',
      error: page.error ?? '',
      usernameRule: USERNAME_RULE,
      passwordRule: PASSWORD_RULE,
    }, page.status);
  }
}
