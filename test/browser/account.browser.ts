import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { otherSession, signedOutOfAccount } from '../helpers/account.js';
import { json, registerUser } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { useChromium, type WatchedPage } from './chromium.js';
import { activate, signInOnPage, tabThrough } from './flows.js';
import { expectUsablePage } from './page-checks.js';

/**
 * The account's own changes on /account in chromium, under the server's CSP: changing the password, signing out
 * everywhere and deleting the account, typed and pressed with the keyboard alone, with a second session of the user
 * (another browser) to see what each change ends.
 */
describe('the account page, in chromium', () => {
  const server = useTestServer();
  const chrome = useChromium();

  /** A user signed in on /account in a fresh browser, and signed in elsewhere too. */
  async function signedIn() {
    const user = await registerUser(server.url);
    const watched = await chrome.open();
    await watched.page.goto(`${server.url}/account`);
    await signInOnPage(watched.page, user);
    await watched.page.getByText(`Signed in as ${user.username}.`).waitFor();
    const elsewhere = await otherSession(server.url, user);
    return { user, ...watched, elsewhere };
  }

  /** Puts the focus on the field labelled `label` (a click, as a person would before typing) and types `text`. */
  async function typeInto(page: Page, label: string, text: string) {
    await page.getByLabel(label, { exact: true }).focus();
    await page.keyboard.type(text);
  }

  /** Chromium logs the page's own error status (a refused form) as a console error: that line, and nothing else. */
  const onlyStatus = ({ problems }: WatchedPage, status: string) => problems.filter((problem) => !problem.includes(`status of ${status}`));

  it('Change password: a mistake is announced beside the form; then this browser stays signed in and the other is signed out', async () => {
    const watched = await signedIn();
    const { page, user, elsewhere } = watched;
    await expectUsablePage(page);

    await typeInto(page, 'Current password', user.password);
    await tabThrough(page, ['textbox "New password"']);
    await page.keyboard.type('a new password');
    await tabThrough(page, ['textbox "Repeat the new password"']);
    await page.keyboard.type('another new password');
    await tabThrough(page, ['button "Change password"']);
    await activate(page, 'button "Change password"');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).to.equal('The two new passwords do not match.');
    await expectUsablePage(page);

    await typeInto(page, 'Current password', user.password);
    await typeInto(page, 'New password', 'a new password');
    await typeInto(page, 'Repeat the new password', 'a new password');
    await tabThrough(page, ['button "Change password"']);
    await activate(page, 'button "Change password"', 'Space');
    await page.getByRole('status').waitFor();
    expect(await page.getByRole('status').textContent()).to.include('Your password is changed. Your other sessions are signed out');
    await expectUsablePage(page);
    expect(await signedOutOfAccount(elsewhere), 'the other browser').to.equal(true);

    await page.reload();
    expect(await page.getByText(`Signed in as ${user.username}.`).count(), 'this browser, after a reload').to.equal(1);
    const newLogin = await fetch(`${server.url}/oauth/login`, json({ username: user.username, password: 'a new password' }));
    expect(newLogin.status).to.equal(200);
    expect(onlyStatus(watched, '400')).to.deep.equal([]);
  });

  it('Sign out everywhere: this browser and the other are signed out, and the page says the apps keep their access', async () => {
    const { page, elsewhere, expectNoProblems } = await signedIn();
    await page.getByRole('button', { name: 'Sign out everywhere' }).focus();
    await activate(page, 'button "Sign out everywhere"');
    await page.getByRole('heading', { name: 'Signed out everywhere' }).waitFor();
    expect(await page.locator('main').textContent()).to.include('Apps you connected keep their access.');
    await expectUsablePage(page);
    expect(await signedOutOfAccount(elsewhere)).to.equal(true);

    await page.keyboard.press('Tab');
    await activate(page, 'link "Sign in"');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expectNoProblems();
  });

  it('Delete account: asks for the password and the username typed; then the account is gone and the page says so', async () => {
    const watched = await signedIn();
    const { page, user, elsewhere } = watched;

    await typeInto(page, 'Password', 'not the password');
    await tabThrough(page, [`textbox "Type your username, ${user.username}, to confirm"`]);
    await page.keyboard.type(user.username);
    await tabThrough(page, ['button "Delete my account"']);
    await activate(page, 'button "Delete my account"');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).to.equal('The password is incorrect.');
    expect(await signedOutOfAccount(elsewhere), 'nothing deleted yet').to.equal(false);

    await typeInto(page, 'Password', user.password);
    await typeInto(page, `Type your username, ${user.username}, to confirm`, user.username);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Account deleted' }).waitFor();
    expect(await page.locator('.lead').textContent()).to.include(user.username);
    await expectUsablePage(page);

    expect(await signedOutOfAccount(elsewhere)).to.equal(true);
    const login = await fetch(`${server.url}/oauth/login`, json({ username: user.username, password: user.password }));
    expect(login.status).to.equal(401);
    await page.goto(`${server.url}/account`);
    expect(await page.getByRole('button', { name: 'Sign in' }).count(), 'signed out').to.equal(1);
    expect(onlyStatus(watched, '403')).to.deep.equal([]);
  });
});
