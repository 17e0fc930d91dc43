import ejs from 'ejs';
import type { Context } from 'koa';
import { packagePath } from '../package-dir.js';

const VIEWS = packagePath('views/');

export interface PageData {
  title: string;
  [key: string]: unknown;
}

/** Renders views/<view>.ejs inside views/layout.ejs. EJS escapes every `<%= %>`; views never use `<%-` on input. */
export async function renderPage(view: string, data: PageData): Promise<string> {
  const body = await ejs.renderFile(`${VIEWS}${view}.ejs`, data, { cache: true, async: false });
  return ejs.renderFile(`${VIEWS}layout.ejs`, { ...data, body }, { cache: true, async: false });
}

export async function sendPage(ctx: Context, view: string, data: PageData, status = 200): Promise<void> {
  const html = await renderPage(view, data);
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = html;
}
