import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { AccountService } from '../accounts/accounts.js';
import { LoginCredentials, NewCredentials } from '../accounts/rules.js';
import { readForm } from '../http/body.js';
import { htmlErrors } from '../http/errors.js';
import { Problem } from '../http/problem.js';
import { grantConsent } from './consent.js';
import type { CsrfTokens } from './csrf.js';
import { loadInteraction, sameOriginPost, type InteractionState } from './guards.js';
import { InteractionPages } from './pages.js';

/**
 * The browser side of the provider's interactions: /interaction/:uid shows the login page (with a link to
 * registration); the forms post back here, and a finished step hands the browser back to /oauth/authorize.
 */
export function interactionRoutes(
  provider: Provider,
  accounts: AccountService,
  csrf: CsrfTokens,
  firstParty: ReadonlySet<string>,
): Router {
  const pages = new InteractionPages(csrf);
  const router = new Router({ prefix: '/interaction/:uid' });
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
    if (!csrf.verify(current(ctx).uid, form.csrf)) {
      throw new Problem(403, 'invalid_request', 'This form has expired. Reload the page and try again.');
    }
    return form;
  };

  /** The login and registration forms only make sense while a login is what the interaction waits for. */
  const readLoginForm = async (ctx: Context) => {
    const form = await readInteractionForm(ctx);
    if (current(ctx).prompt.name !== 'login') {
      throw new Problem(400, 'invalid_request', 'You are already signed in. Go back to the application and start again.');
    }
    return form;
  };

  router.get('/', htmlErrors, load, async (ctx) => {
    const interaction = current(ctx);
    if (interaction.prompt.name === 'login') return pages.login(ctx, interaction);
    // First-party clients are trusted: an explicit prompt=consent (as for offline_access) is granted at once.
    if (interaction.prompt.name === 'consent' && firstParty.has(String(interaction.params.client_id))) {
      return finish(ctx, { consent: { grantId: await grantConsent(provider, interaction) } });
    }
    throw new Problem(400, 'invalid_request', `This server cannot ask for "${interaction.prompt.name}" for this application.`);
  });

  router.post('/login', htmlErrors, sameOriginPost, load, async (ctx) => {
    const form = await readLoginForm(ctx);
    const interaction = current(ctx);
    const parsed = LoginCredentials.safeParse(form);
    if (!parsed.success) {
      return pages.login(ctx, interaction, { username: form.username, error: 'Enter your username and password.', status: 400 });
    }
    const account = await accounts.authenticate(parsed.data.username, parsed.data.password);
    if (!account) {
      return pages.login(ctx, interaction, { username: form.username, error: 'The username or password is incorrect.', status: 401 });
    }
    await finish(ctx, { login: { accountId: account.id, amr: ['pwd'] } });
  });

  router.get('/register', htmlErrors, load, async (ctx) => {
    await pages.register(ctx, current(ctx));
  });

  router.post('/register', htmlErrors, sameOriginPost, load, async (ctx) => {
    const form = await readLoginForm(ctx);
    const interaction = current(ctx);
    const parsed = NewCredentials.safeParse(form);
    if (!parsed.success) {
      const error = parsed.error.issues[0]?.message ?? 'invalid input';
      return pages.register(ctx, interaction, { username: form.username, error: `The ${error}.`, status: 400 });
    }
    if (form.password !== form.confirm) {
      return pages.register(ctx, interaction, { username: form.username, error: 'The two passwords do not match.', status: 400 });
    }
    const account = await accounts.register(parsed.data);
    if (!account) {
      return pages.register(ctx, interaction, { username: form.username, error: 'That username is already taken.', status: 409 });
    }
    await finish(ctx, { login: { accountId: account.id, amr: ['pwd'] } });
  });

  router.post('/abort', htmlErrors, sameOriginPost, load, async (ctx) => {
    await readInteractionForm(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'the user cancelled the sign-in' });
  });

  return router;
}
