import { expect } from 'chai';
import { authorizeUrl, exchangeCode, registerUser, uniqueName, type Tokens } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { useChromium } from './chromium.js';
import { activate, expectFocus, registerOnPage, signInOnPage, tabThrough } from './flows.js';
import { expectUsablePage } from './page-checks.js';
import type { PageDocument } from './page-globals.js';

declare const document: PageDocument;
declare const navigator: { clipboard: { readText(): Promise<string> } };

/**
 * The login, registration and callback pages in a real browser, under the server's CSP, used with the keyboard
 * alone: Tab to a control, then Enter or Space.
 */
describe('signing in, in chromium', () => {
  const server = useTestServer();
  const chrome = useChromium();

  const isCallback = (url: URL) => url.pathname === '/callback';

  it('registers from the login page\'s link, lands on /callback, and Copy puts the code on the clipboard', async () => {
    const { page, context, expectNoProblems } = await chrome.open();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });

    await page.goto(authorizeUrl(server.url));
    expect(await page.locator('h1').textContent()).to.equal('Sign in');
    await expectUsablePage(page);
    await expectFocus(page, 'textbox "Username"');
    await tabThrough(page, ['textbox "Password"', 'button "Sign in"', 'button "Cancel"', 'link "Create one"']);
    await activate(page, 'link "Create one"');
    await page.waitForURL((url) => url.pathname.endsWith('/register'));
    await expectUsablePage(page);

    const { username } = await registerOnPage(page, uniqueName('chromium'), 'Space');
    await page.waitForURL(isCallback);
    await expectUsablePage(page);

    const code = new URL(page.url()).searchParams.get('code');
    expect(code).to.be.a('string').and.not.be.empty;
    expect(await page.locator('#code').inputValue()).to.equal(code);
    await tabThrough(page, ['textbox "Code"', 'button "Copy"']);
    await activate(page, 'button "Copy"');
    await page.waitForFunction(() => document.getElementById('copy-status')?.textContent !== '');
    expect(await page.locator('#copy-status').textContent()).to.equal('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).to.equal(code);

    // The copied code is the real thing: it exchanges for tokens of the account just created.
    const token = await exchangeCode(server.url, code!);
    expect(token.status).to.equal(200);
    const { access_token: accessToken } = await token.json() as Tokens;
    const info = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect((await info.json()).username).to.equal(username);
    expectNoProblems();
  });

  it('signs in with the keyboard alone: type, Tab, type, Enter', async () => {
    const user = await registerUser(server.url);
    const { page, expectNoProblems } = await chrome.open();
    await page.goto(authorizeUrl(server.url));
    await signInOnPage(page, user);
    await page.waitForURL(isCallback);
    const url = new URL(page.url());
    expect(url.searchParams.get('state')).to.equal('random_state');
    expect((await exchangeCode(server.url, url.searchParams.get('code')!)).status).to.equal(200);
    expectNoProblems();
  });

  it('shows a wrong password as an error the page announces, keeping the username, without console errors', async () => {
    const user = await registerUser(server.url);
    const { page, problems } = await chrome.open();
    await page.goto(authorizeUrl(server.url));
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).to.match(/username or password is incorrect/i);
    expect(await page.getByLabel('Username').inputValue()).to.equal(user.username);
    expect(await page.getByLabel('Password').inputValue()).to.equal('');
    await expectUsablePage(page);
    // Chromium logs the page's own 401 status as a console error; that line is expected, nothing else is.
    const login = page.url();
    expect(problems.filter((p) => !p.endsWith(`status of 401 (Unauthorized) (${login})`))).to.deep.equal([]);
  });
});
