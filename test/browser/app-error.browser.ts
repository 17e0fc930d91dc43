import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { useTestServer } from '../helpers/server.js';
import { useChromium } from './chromium.js';
import { activate, appAuthorization, tabThrough, useLoopbackApp } from './flows.js';
import { expectUsablePage } from './page-checks.js';

/**
 * A self-registered app's authorization request fails before the person did anything (RFC 9700 §4.11.2): chromium
 * stays on this server's page, which sends nothing to the app by itself; the person may take the error back with
 * the keyboard.
 */
describe('an app\'s error before sign-in, in chromium', () => {
  const server = useTestServer();
  const chrome = useChromium();
  const loopback = useLoopbackApp(server);

  const appHost = () => new URL(loopback.app.host.redirectUri).host;

  /** Opens the app's request with `params` added; the page must stay here and the app hear nothing. */
  async function errorPage(page: Page, params: Record<string, string>) {
    const authorization = appAuthorization(server.url, loopback.app.host);
    const url = new URL(authorization.url);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    const answer = await page.goto(url.href);
    expect(answer?.status()).to.equal(400);
    await page.getByRole('heading', { name: 'Sign-in error' }).waitFor();
    await page.waitForTimeout(300);
    expect(page.url()).to.equal(url.href);
    expect(loopback.app.redirects, 'nothing reached the app by itself').to.have.length(0);
    expect(await page.locator('.client-name').textContent()).to.equal(loopback.app.host.name);
    expect(await page.locator('.return-host').textContent()).to.equal(appHost());
    await expectUsablePage(page);
    return { ...authorization, url: url.href };
  }

  /** Chromium logs the page's own 400 status as a console error; that line is expected, nothing else is. */
  const unexpected = (problems: string[], url: string) => problems.filter((p) => !p.endsWith(`status of 400 (Bad Request) (${url})`));

  it('prompt=none without a session: the page, then its link takes login_required and the state to the app', async () => {
    const { page, problems } = await chrome.open();
    const { state, url } = await errorPage(page, { prompt: 'none' });
    await tabThrough(page, [`link "Go back to ${appHost()}"`]);
    await activate(page, `link "Go back to ${appHost()}"`);
    await loopback.reached(page);
    expect(loopback.app.redirects).to.have.length(1);
    expect(loopback.app.redirects[0]!.get('error')).to.equal('login_required');
    expect(loopback.app.redirects[0]!.get('state')).to.equal(state);
    expect(unexpected(problems, url)).to.deep.equal([]);
  });

  it('response_mode=form_post: no form submits itself; the button posts the error to the app', async () => {
    const { page, problems } = await chrome.open();
    const { state, url } = await errorPage(page, { prompt: 'none', response_mode: 'form_post' });
    await tabThrough(page, [`button "Go back to ${appHost()}"`]);
    await activate(page, `button "Go back to ${appHost()}"`, 'Space');
    await loopback.reached(page);
    expect(loopback.app.redirects).to.have.length(1);
    expect(loopback.app.redirects[0]!.get('error')).to.equal('login_required');
    expect(loopback.app.redirects[0]!.get('state')).to.equal(state);
    expect(loopback.app.redirects[0]!.get('iss')).to.equal(server.url);
    expect(unexpected(problems, url)).to.deep.equal([]);
  });
});
