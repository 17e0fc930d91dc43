import type { Context, Middleware } from 'koa';
import { usernameKey } from '../../adapters/stores.js';
import type { AccountService } from '../accounts/accounts.js';
import { checkSignInForm } from '../accounts/credentials-form.js';
import type { AccountLifecycle } from '../accounts/lifecycle.js';
import { wantsJson } from '../http/answer-kind.js';
import { readForm, readFormOrJson } from '../http/body.js';
import { invalidRequest, Problem } from '../http/problem.js';
import { formExpired } from '../interactions/csrf.js';
import type { SignIn } from '../oauth/sign-in.js';
import type { FindSignedInUser, SignedInUser } from '../oauth/signed-in-user.js';
import { AccountDeletion, CONFIRM_USERNAME, parseAccountForm, PasswordChange, wrongPassword } from './account-forms.js';
import type { ConnectedApp, ConnectedApps } from './connected-apps.js';
import type { AccountFormTokens } from './form-tokens.js';
import { connectedAppsPages as pages, type AccountForm, type AppsPage } from './pages.js';

export interface AccountParts {
  viewer: FindSignedInUser;
  accounts: AccountService;
  lifecycle: AccountLifecycle;
  signIn: SignIn;
  apps: ConnectedApps;
  tokens: AccountFormTokens;
}

export type ConnectedAppsSteps = Record<'page' | 'signIn' | 'revoke' | 'changePassword' | 'signOutEverywhere' | 'deleteAccount', Middleware>;

/** What the page says at the top after a change it redirected back from; only these, so a link cannot put words there. */
const NOTICES: Readonly<Record<string, string>> = {
  password: 'Your password is changed. Your other sessions are signed out; this one stays signed in.',
};

const appJson = (app: ConnectedApp) => ({
  client_id: app.clientId,
  name: app.name,
  ...(app.domain ? { domain: app.domain } : {}),
  first_party: app.firstParty,
  scopes: app.scopes,
  granted_at: app.grantedAt.toISOString(),
  last_used_at: app.lastUsedAt?.toISOString() ?? null,
});

/**
 * /account: the signed-in user's account. The apps that can use it, each with a Revoke button; changing the password,
 * signing out everywhere, and deleting the account. The user is whoever the provider's session cookie says (the one
 * /oauth/authorize uses); a browser without one gets a sign-in form that makes one. Scripts use the same routes with
 * JSON: GET /account with Accept: application/json lists the apps and gives the CSRF token the POSTs need, in a JSON
 * body, beside the same session cookie (POST /oauth/login gives one).
 */
export function connectedAppsSteps({ viewer, accounts, lifecycle, signIn, apps, tokens }: AccountParts): ConnectedAppsSteps {
  const signedOut = (ctx: Context) => (ctx.state.html
    ? new Problem(401, 'login_required', 'You are signed out. Open Connected apps, sign in and try again.')
    : new Problem(401, 'login_required', 'not signed in: POST /oauth/login {username, password} gives a session cookie'));

  const csrfRefused = (ctx: Context) => (ctx.state.html
    ? formExpired()
    : new Problem(403, 'invalid_request', "the csrf token is missing or not this session's: GET /account with Accept: application/json gives one"));

  /** A form of a signed-in page, urlencoded or JSON, with the CSRF token of this browser's session. */
  const readSignedInForm = async (ctx: Context) => {
    const form = await readFormOrJson(ctx);
    const who = await viewer(ctx);
    if (!who) throw signedOut(ctx);
    if (!tokens.verify(ctx, form.csrf, who.sessionUid)) throw csrfRefused(ctx);
    return { form, who };
  };

  const showAccount = async (ctx: Context, who: SignedInUser, extra: Pick<AppsPage, 'notice' | 'errors' | 'status'> = {}) => pages.apps(ctx, {
    csrf: tokens.issue(ctx, who.sessionUid), username: who.account.username, apps: await apps.list(who.account.id), ...extra,
  });

  /**
   * Runs a form's checks: a refusal (bad input, a wrong password) is shown beside the form on the page, and is the
   * error of a JSON answer. Anything else (a form expired, storage away, too many attempts) goes to the error handler.
   */
  const checked = async <T>(ctx: Context, who: SignedInUser, form: AccountForm, check: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await check();
    } catch (err) {
      const inPlace = err instanceof Problem && (err.status === 400 || err.error === 'invalid_credentials');
      if (!ctx.state.html || !inPlace) throw err;
      await showAccount(ctx, who, { errors: { [form]: err.description }, status: err.status });
      return undefined;
    }
  };

  const accountPage: Middleware = async (ctx) => {
    ctx.vary('Accept');
    const who = await viewer(ctx);
    if (wantsJson(ctx)) {
      if (!who) throw signedOut(ctx);
      const list = await apps.list(who.account.id);
      ctx.body = { username: who.account.username, csrf: tokens.issue(ctx, who.sessionUid), apps: list.map(appJson) };
      return;
    }
    if (!who) return pages.signIn(ctx, { csrf: tokens.issue(ctx) });
    const done = typeof ctx.query.done === 'string' && Object.hasOwn(NOTICES, ctx.query.done) ? NOTICES[ctx.query.done] : undefined;
    await showAccount(ctx, who, { notice: done });
  };

  const signInHere: Middleware = async (ctx) => {
    const form = await readForm(ctx);
    // Bound to the browser only: signing in again, as someone else, from a second tab is allowed.
    if (!tokens.verify(ctx, form.csrf)) throw formExpired();
    const result = await checkSignInForm(accounts, form, ctx.ip);
    if ('error' in result) return pages.signIn(ctx, { csrf: tokens.issue(ctx), username: form.username, ...result });
    await signIn(ctx, result.account.id);
    ctx.status = 303;
    ctx.redirect('/account');
  };

  const revoke: Middleware = async (ctx) => {
    const { who } = await readSignedInForm(ctx);
    const clientId = ctx.params.clientId!;
    if (!(await apps.revoke(who.account.id, clientId))) {
      throw new Problem(404, 'not_found', 'No app with this id is connected to your account.');
    }
    if (wantsJson(ctx)) {
      ctx.body = { client_id: clientId, revoked: true };
      return;
    }
    ctx.status = 303;
    ctx.redirect('/account');
  };

  const changePassword: Middleware = async (ctx) => {
    const { form, who } = await readSignedInForm(ctx);
    const change = await checked(ctx, who, 'password', async () => {
      const fields = parseAccountForm(PasswordChange, form);
      if (!(await accounts.checkPassword(who.account, fields.current_password, ctx.ip))) throw wrongPassword('the current password');
      return fields;
    });
    if (!change) return;
    const ended = await lifecycle.changePassword(who.account, change.new_password, who.sessionUid);
    if (wantsJson(ctx)) {
      ctx.body = { password_changed: true, sessions_ended: ended.sessions };
      return;
    }
    ctx.status = 303;
    ctx.redirect('/account?done=password');
  };

  const signOutEverywhere: Middleware = async (ctx) => {
    const { who } = await readSignedInForm(ctx);
    const ended = await lifecycle.signOutEverywhere(who.account.id);
    if (wantsJson(ctx)) {
      ctx.body = { sessions_ended: ended.sessions, grants_revoked: ended.grants };
      return;
    }
    await pages.signedOutEverywhere(ctx);
  };

  const deleteAccount: Middleware = async (ctx) => {
    const { form, who } = await readSignedInForm(ctx);
    const confirmed = await checked(ctx, who, 'delete', async () => {
      const fields = parseAccountForm(AccountDeletion, form);
      if (usernameKey(fields.confirm_username.trim()) !== usernameKey(who.account.username)) throw invalidRequest(CONFIRM_USERNAME);
      if (!(await accounts.checkPassword(who.account, fields.password, ctx.ip))) throw wrongPassword('the password');
      return fields;
    });
    if (!confirmed) return;
    const deleted = await lifecycle.delete(who.account);
    if (wantsJson(ctx)) {
      ctx.body = { deleted: true, notes_deleted: deleted.notes, grants_revoked: deleted.grants, sessions_ended: deleted.sessions };
      return;
    }
    await pages.deleted(ctx, who.account.username);
  };

  return { page: accountPage, signIn: signInHere, revoke, changePassword, signOutEverywhere, deleteAccount };
}
