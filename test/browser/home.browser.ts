import { expect } from 'chai';
import { registerUser, uniqueName } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { useChromium } from './chromium.js';
import { activate, registerOnPage, signInOnPage, tabThrough } from './flows.js';
import { expectUsablePage } from './page-checks.js';
import type { PageDocument } from './page-globals.js';

declare const document: PageDocument;
declare const navigator: { clipboard: { readText(): Promise<string> } };

/**
 * The home page (`/`) and the sign-up page it links to, in chromium under the server's CSP, with the keyboard alone;
 * on each, the checks of expectUsablePage (labels, Tab order and focus, contrast in both schemes, 320 px).
 */
describe('the home page, in chromium', () => {
  const server = useTestServer();
  const chrome = useChromium();

  it('a visitor creates an account from it, comes back signed in, and copies the MCP URL with the Copy button', async () => {
    const { page, context, expectNoProblems } = await chrome.open();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.goto(`${server.url}/`);
    expect(await page.locator('h1').textContent()).to.equal('MCP notes server');
    await expectUsablePage(page);
    await tabThrough(page, ['link "Sign in"', 'link "Create one"', 'textbox "MCP server URL"', 'button "Copy"']);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await activate(page, 'link "Create one"');

    await page.waitForURL((url) => url.pathname === '/signup');
    await expectUsablePage(page);
    const { username } = await registerOnPage(page, uniqueName('home'));

    await page.waitForURL((url) => url.pathname === '/');
    await page.getByText(`Signed in as ${username}.`).waitFor();
    await expectUsablePage(page);
    await tabThrough(page, ['link "Connected apps"', 'link "Sign out"', 'textbox "MCP server URL"', 'button "Copy"']);
    await activate(page, 'button "Copy"', 'Space');
    await page.waitForFunction(() => document.getElementById('copy-status')?.textContent !== '');
    expect(await page.locator('#copy-status').textContent()).to.equal('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).to.equal(`${server.url}/mcp`);
    expectNoProblems();
  });

  it('Sign in goes to the connected-apps page\'s own sign-in; once signed in, home links there and signs out', async () => {
    const user = await registerUser(server.url);
    const { page, expectNoProblems } = await chrome.open();
    await page.goto(`${server.url}/`);
    await page.keyboard.press('Tab');
    await activate(page, 'link "Sign in"');
    await page.waitForURL((url) => url.pathname === '/account');
    await signInOnPage(page, user);
    await page.getByText(`Signed in as ${user.username}.`).waitFor();

    await page.goto(`${server.url}/`);
    await page.keyboard.press('Tab');
    await activate(page, 'link "Connected apps"');
    await page.getByRole('heading', { name: 'Connected apps' }).waitFor();

    await page.goto(`${server.url}/`);
    await tabThrough(page, ['link "Connected apps"', 'link "Sign out"']);
    await activate(page, 'link "Sign out"');
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    await activate(page, 'button "Yes, sign me out"', 'Space');
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();

    await page.goto(`${server.url}/`);
    expect(await page.getByRole('link', { name: 'Sign in' }).count(), 'signed out: Sign in again').to.equal(1);
    expectNoProblems();
  });

  describe('with SIGNUP=closed and CLIENT_REGISTRATION=closed', () => {
    const closed = useTestServer({ SIGNUP: 'closed', CLIENT_REGISTRATION: 'closed' });

    it('offers Sign in only, says which apps can connect, and /signup says sign-up is closed', async () => {
      const { page, problems } = await chrome.open();
      await page.goto(`${closed.url}/`);
      await expectUsablePage(page);
      await tabThrough(page, ['link "Sign in"', 'textbox "MCP server URL"', 'button "Copy"']);
      await page.getByText('Accounts are created by the operator of this server.').waitFor();
      await page.getByText('Apps cannot register themselves here', { exact: false }).waitFor();
      expect(await page.getByRole('link', { name: 'Create one' }).count()).to.equal(0);

      await page.goto(`${closed.url}/signup`);
      await page.getByRole('heading', { name: 'Sign-up is closed' }).waitFor();
      expect(await page.locator('form').count(), 'no form').to.equal(0);
      await expectUsablePage(page);
      // Chromium logs the page's own 403 status as a console error; that line is expected, nothing else is.
      const signup = page.url();
      expect(problems.filter((p) => !p.endsWith(`status of 403 (Forbidden) (${signup})`))).to.deep.equal([]);
    });
  });
});
