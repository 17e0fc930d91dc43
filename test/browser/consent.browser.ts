import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { registerUser } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { exchangeOk, refresh } from '../helpers/third-party.js';
import { useChromium } from './chromium.js';
import { activate, appAuthorization, signInOnPage, tabThrough, useLoopbackApp } from './flows.js';
import { expectUsablePage } from './page-checks.js';

/**
 * A third-party app (registered by DCR, redirecting to its own loopback listener) asks a user for access: the
 * consent page, its Allow and Deny, and the connected-apps page where the user takes the access back. The user
 * has only a keyboard: Tab to a control, then Enter or Space.
 */
describe('consent and connected apps, in chromium', () => {
  const server = useTestServer();
  const chrome = useChromium();
  const loopback = useLoopbackApp(server);

  /** Opens the app's authorization request, signs in, and stops on the consent page. */
  async function consentPage(page: Page) {
    const user = await registerUser(server.url);
    const authorization = appAuthorization(server.url, loopback.app.host);
    await page.goto(authorization.url);
    await signInOnPage(page, user);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    expect(await page.locator('h1').textContent()).to.equal(`Allow ${loopback.app.host.name} to use your account?`);
    expect(await page.locator('.lead').textContent()).to.include(user.username);
    return authorization;
  }

  it('Allow sends the code and state to the app, which exchanges it; /account lists the app and Revoke ends its access', async () => {
    const { page, expectNoProblems } = await chrome.open();
    const { state, verifier } = await consentPage(page);
    await expectUsablePage(page);
    await tabThrough(page, ['button "Allow"']);
    await activate(page, 'button "Allow"');
    await loopback.reached(page);

    expect(loopback.app.redirects).to.have.length(1);
    const answer = loopback.app.redirects[0]!;
    expect(answer.get('state')).to.equal(state);
    expect(answer.get('error')).to.equal(null);
    const tokens = await exchangeOk(server.url, loopback.app.host, answer.get('code')!, verifier);

    await page.goto(`${server.url}/account`);
    await expectUsablePage(page);
    const listed = page.locator('ul.apps > li');
    expect(await listed.count()).to.equal(1);
    expect(await listed.locator('h2').textContent()).to.equal(loopback.app.host.name);
    expect(await listed.locator('code').first().textContent()).to.equal(loopback.app.host.clientId);

    await tabThrough(page, [`button "Revoke access for ${loopback.app.host.name}"`]);
    await activate(page, `button "Revoke access for ${loopback.app.host.name}"`, 'Space');
    await page.getByText('No apps are connected to your account.').waitFor();
    expect(await page.locator('ul.apps > li').count()).to.equal(0);
    // Revoking ended the grant, so the app's refresh token no longer works.
    const refused = await refresh(server.url, loopback.app.host, tokens.refresh_token);
    expect(refused.status).to.equal(400);
    expect((await refused.json()).error).to.equal('invalid_grant');
    expectNoProblems();
  });

  it('Deny sends error=access_denied with the state to the app, and nothing is connected', async () => {
    const { page, expectNoProblems } = await chrome.open();
    const { state } = await consentPage(page);
    await tabThrough(page, ['button "Allow"', 'button "Deny"']);
    await activate(page, 'button "Deny"', 'Space');
    await loopback.reached(page);

    expect(loopback.app.redirects).to.have.length(1);
    const answer = loopback.app.redirects[0]!;
    expect(answer.get('error')).to.equal('access_denied');
    expect(answer.get('state')).to.equal(state);
    expect(answer.get('code')).to.equal(null);

    await page.goto(`${server.url}/account`);
    await page.getByText('No apps are connected to your account.').waitFor();
    expectNoProblems();
  });

  it('/account signs in a browser without a session with its own form, and Sign out ends the session', async () => {
    const user = await registerUser(server.url);
    const { page, expectNoProblems } = await chrome.open();
    await page.goto(`${server.url}/account`);
    await expectUsablePage(page);
    await signInOnPage(page, user);
    await page.getByText(`Signed in as ${user.username}.`).waitFor();

    await tabThrough(page, ['link "Sign out"']);
    await activate(page, 'link "Sign out"');
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    await expectUsablePage(page);
    await activate(page, 'button "Yes, sign me out"', 'Space');
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await expectUsablePage(page);

    await page.goto(`${server.url}/account`);
    expect(await page.getByRole('button', { name: 'Sign in' }).count(), 'the sign-in form again').to.equal(1);
    expectNoProblems();
  });
});
