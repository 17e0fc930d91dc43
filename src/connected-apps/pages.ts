import type { Context } from 'koa';
import { PASSWORD_RULE } from '../accounts/rules.js';
import { sendPage } from '../http/render.js';
import type { ConnectedApp } from './connected-apps.js';

export interface SignInPage {
  csrf: string;
  username?: string;
  error?: string;
  status?: number;
}

/** The forms of the account page that can be refused in place, with the reason shown beside them. */
export type AccountForm = 'password' | 'delete';

export interface AppsPage {
  csrf: string;
  username: string;
  apps: ConnectedApp[];
  /** What the last change did, said at the top of the page. */
  notice?: string;
  /** Why a form was refused, by form. */
  errors?: Partial<Record<AccountForm, string>>;
  status?: number;
}

/** "2026-11-26 15:22 UTC": the same for every reader, whatever the server's time zone. */
const when = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

const time = (date: Date | undefined) => date && { iso: date.toISOString(), text: when(date) };

/** A description or refusal as a sentence: "the current password is incorrect" → "The current password is incorrect." */
export const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

/** The /account pages: the sign-in form, the account with its connected apps, and the ends of the account's changes. Never cached. */
export const connectedAppsPages = {
  signIn(ctx: Context, page: SignInPage) {
    ctx.set('Cache-Control', 'no-store');
    return sendPage(ctx, 'account-sign-in', {
      title: 'Connected apps: sign in',
      csrf: page.csrf,
      username: page.username ?? '',
      error: page.error ?? '',
    }, page.status);
  },

  apps(ctx: Context, page: AppsPage) {
    ctx.set('Cache-Control', 'no-store');
    const errors = Object.fromEntries(Object.entries(page.errors ?? {}).map(([form, error]) => [form, sentence(error)]));
    return sendPage(ctx, 'account', {
      title: 'Connected apps',
      csrf: page.csrf,
      username: page.username,
      apps: page.apps.map((app) => ({ ...app, granted: time(app.grantedAt), lastUsed: time(app.lastUsedAt) })),
      notice: page.notice ?? '',
      errors,
      passwordRule: PASSWORD_RULE,
    }, page.status);
  },

  signedOutEverywhere(ctx: Context) {
    ctx.set('Cache-Control', 'no-store');
    return sendPage(ctx, 'account-signed-out', { title: 'Signed out everywhere' });
  },

  deleted(ctx: Context, username: string) {
    ctx.set('Cache-Control', 'no-store');
    return sendPage(ctx, 'account-deleted', { title: 'Account deleted', username });
  },
};
