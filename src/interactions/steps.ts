import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { ConsentStore } from '../../adapters/stores.js';
import type { AccountService } from '../accounts/accounts.js';
import { checkSignInForm, registerFromForm } from '../accounts/credentials-form.js';
import { readForm } from '../http/body.js';
import { Problem } from '../http/problem.js';
import { clientIdentity } from '../oauth/client-name.js';
import { grantConsent } from './consent.js';
import { formExpired, type CsrfTokens } from './csrf.js';
import { loadInteraction, type InteractionState } from './guards.js';
import { InteractionPages } from './pages.js';

/** Why a form of one step cannot be used while the interaction waits for another. */
const WRONG_STEP = {
  login: 'You are already signed in. Go back to the application and start again.',
  consent: 'This page is out of date. Go back to the application and start again.',
} as const;

/**
 * The browser side of the provider's interactions: /interaction/:uid shows the login page (with a link to
 * registration while SIGNUP is open) or, for a client that is not first-party, the consent page; the forms post back
 * to /interaction/:uid/<step>, and a finished step hands the browser back to /oauth/authorize. Every step but `load`
 * runs after it, which finds the interaction.
 */
export type InteractionSteps = Record<'load' | 'page' | 'consent' | 'deny' | 'login' | 'registerPage' | 'register' | 'abort', Middleware>;

export function interactionSteps(
  provider: Provider,
  accounts: AccountService,
  csrf: CsrfTokens,
  firstParty: ReadonlySet<string>,
  consents: ConsentStore,
  signupOpen: boolean,
): InteractionSteps {
  const pages = new InteractionPages(csrf, provider, signupOpen);
  const load = loadInteraction(provider);
  const current = (ctx: Context) => (ctx.state as InteractionState).interaction;

  const finish = async (ctx: Context, result: InteractionResults) => {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
  };

  /** Reads a form of this interaction, refusing it without the interaction's CSRF token. */
  const readInteractionForm = async (ctx: Context) => {
    const form = await readForm(ctx);
    if (!csrf.verify(current(ctx).uid, form.csrf)) throw formExpired();
    return form;
  };

  /** A step's forms only make sense while that step is what the interaction waits for. */
  const readStepForm = async (ctx: Context, step: keyof typeof WRONG_STEP) => {
    const form = await readInteractionForm(ctx);
    if (current(ctx).prompt.name !== step) throw new Problem(400, 'invalid_request', WRONG_STEP[step]);
    return form;
  };

  const interactionPage: Middleware = async (ctx) => {
    const interaction = current(ctx);
    if (interaction.prompt.name === 'login') return pages.login(ctx, interaction);
    if (interaction.prompt.name === 'consent') {
      const clientId = String(interaction.params.client_id);
      // First-party clients are trusted: an explicit prompt=consent (as for offline_access) is granted at once.
      if (firstParty.has(clientId)) return finish(ctx, { consent: { grantId: (await grantConsent(provider, interaction)).grantId } });
      const account = await accounts.findById(interaction.session!.accountId);
      return pages.consent(ctx, interaction, {
        client: await clientIdentity(provider, clientId),
        username: account?.username ?? '',
      });
    }
    throw new Problem(400, 'invalid_request', `This server cannot ask for "${interaction.prompt.name}" for this application.`);
  };

  const consent: Middleware = async (ctx) => {
    await readStepForm(ctx, 'consent');
    const interaction = current(ctx);
    const clientId = String(interaction.params.client_id);
    const { grantId, expiresAt } = await grantConsent(provider, interaction);
    // Remembered beyond this browser session, while the grant lasts: the user's next authorization of this client,
    // in any browser, starts from this grant, and the connected-apps page lists it by the name shown here.
    await consents.remember(interaction.session!.accountId, {
      clientId, grantId, expiresAt, client: await clientIdentity(provider, clientId),
    });
    await finish(ctx, { consent: { grantId } });
  };

  const deny: Middleware = async (ctx) => {
    await readStepForm(ctx, 'consent');
    await finish(ctx, { error: 'access_denied', error_description: 'the user denied access' });
  };

  const login: Middleware = async (ctx) => {
    const form = await readStepForm(ctx, 'login');
    const checked = await checkSignInForm(accounts, form, ctx.ip);
    if ('error' in checked) return pages.login(ctx, current(ctx), { username: form.username, ...checked });
    await finish(ctx, { login: { accountId: checked.account.id, amr: ['pwd'] } });
  };

  const registerPage: Middleware = async (ctx) => {
    if (!signupOpen) return pages.signupClosed(ctx, current(ctx));
    await pages.register(ctx, current(ctx));
  };

  const register: Middleware = async (ctx) => {
    if (!signupOpen) return pages.signupClosed(ctx, current(ctx));
    // Creating an account is how this person completes the login step.
    const form = await readStepForm(ctx, 'login');
    const registered = await registerFromForm(accounts, form, ctx.ip);
    if ('error' in registered) return pages.register(ctx, current(ctx), { username: form.username, ...registered });
    await finish(ctx, { login: { accountId: registered.account.id, amr: ['pwd'] } });
  };

  const abort: Middleware = async (ctx) => {
    await readInteractionForm(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'the user cancelled the sign-in' });
  };

  return { load, page: interactionPage, consent, deny, login, registerPage, register, abort };
}
