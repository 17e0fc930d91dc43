import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { describeScope } from '../../config/scopes.js';
import { sendRegistrationPage, sendSignupClosedPage } from '../accounts/signup-pages.js';
import { sendPage } from '../http/render.js';
import { clientName, type ClientIdentity } from '../oauth/client-name.js';
import { redirectHost } from '../oauth/redirect-host.js';
import { consentRequest } from './consent.js';
import type { CsrfTokens } from './csrf.js';
import type { InteractionDetails } from './guards.js';

export interface FormPage {
  username?: string;
  error?: string;
  status?: number;
}

/** Who asks, as the consent page names them. */
export interface ConsentParties {
  /** The client's own name for itself (attacker-controlled: DCR is open), else its id; its domain if it has one. */
  client: ClientIdentity;
  /** The signed-in user's. */
  username: string;
}

/** Draws the login, registration and consent pages of one interaction. */
export class InteractionPages {
  /** `signupOpen`: whether the login page offers to create an account (SIGNUP). */
  constructor(private readonly csrf: CsrfTokens, private readonly provider: Provider, private readonly signupOpen: boolean) {}

  private common(interaction: InteractionDetails) {
    return { uid: interaction.uid, csrf: this.csrf.issue(interaction.uid) };
  }

  /** Sign-in pages name the app a person is signing in to by its name, not by its random id. */
  private async signInPage(interaction: InteractionDetails) {
    return { ...this.common(interaction), client: await clientName(this.provider, String(interaction.params.client_id ?? '')) };
  }

  async login(ctx: Context, interaction: InteractionDetails, page: FormPage = {}) {
    return sendPage(ctx, 'login', {
      title: 'Sign in',
      ...await this.signInPage(interaction),
      username: page.username ?? '',
      error: page.error ?? '',
      signupOpen: this.signupOpen,
    }, page.status);
  }

  async register(ctx: Context, interaction: InteractionDetails, page: FormPage = {}) {
    const { uid, csrf, client } = await this.signInPage(interaction);
    const at = `/interaction/${encodeURIComponent(uid)}`;
    return sendRegistrationPage(ctx, { action: `${at}/register`, signInHref: at, client }, { csrf, ...page });
  }

  /** The registration step of this interaction while SIGNUP=closed. */
  signupClosed(ctx: Context, interaction: InteractionDetails) {
    return sendSignupClosedPage(ctx, `/interaction/${encodeURIComponent(interaction.uid)}`);
  }

  consent(ctx: Context, interaction: InteractionDetails, parties: ConsentParties) {
    const { scopes, claims } = consentRequest(interaction);
    return sendPage(ctx, 'consent', {
      title: 'Allow access?',
      ...this.common(interaction),
      clientId: String(interaction.params.client_id ?? ''),
      clientName: parties.client.name,
      clientDomain: parties.client.domain ?? '',
      username: parties.username,
      redirectHost: redirectHost(String(interaction.params.redirect_uri ?? '')),
      scopes: scopes.map((scope) => ({ scope, description: describeScope(scope) })),
      claims,
    });
  }
}
