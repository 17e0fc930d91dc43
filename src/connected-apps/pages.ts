import type { Context } from 'koa';
import { sendPage } from '../http/render.js';
import type { ConnectedApp } from './connected-apps.js';

export interface SignInPage {
  csrf: string;
  username?: string;
  error?: string;
  status?: number;
}

export interface AppsPage {
  csrf: string;
  username: string;
  apps: ConnectedApp[];
}

/** "2026-11-26 15:22 UTC": the same for every reader, whatever the server's time zone. */
const when = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The /account pages: the sign-in form, or the list of connected apps. Never cached: they are per user. */
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
    return sendPage(ctx, 'account', {
      title: 'Connected apps',
      csrf: page.csrf,
      username: page.username,
      apps: page.apps.map((app) => ({ ...app, grantedAt: app.grantedAt.toISOString(), grantedAtText: when(app.grantedAt) })),
    });
  },
};
