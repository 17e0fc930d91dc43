import { expect } from 'chai';
import type { Browser } from './browser.js';

/**
 * A signed-in user types a device flow's user code on /oauth/device and confirms (or cancels) on the next page;
 * returns the last page.
 */
export async function enterDeviceCode(browser: Browser, userCode: string, confirm: 'continue' | 'cancel' = 'continue') {
  const { res } = await browser.follow('/oauth/device');
  const page = await res.text();
  expect(page).to.include('name="user_code"');
  const entered = await browser.submit(page, '/oauth/device', { user_code: userCode });
  const confirmPage = await entered.res.text();
  if (entered.res.status !== 200 || !confirmPage.includes('op.deviceConfirmForm')) return { status: entered.res.status, html: confirmPage };
  const done = await browser.submit(confirmPage, '/oauth/device', confirm === 'cancel' ? { abort: 'yes' } : {});
  return { status: done.res.status, html: await done.res.text() };
}
