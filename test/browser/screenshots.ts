/**
 * `npm run screenshots`: the README's pictures of the home, login, consent, account and callback pages, taken in chromium from
 * the real server (in memory, in this process) and written to docs/screenshots/. Run it after changing a page or
 * the stylesheet, look at the PNGs, and commit them; the tests do not run it. Last, the MCP Inspector 2.x connected
 * to the server and showing whoami's answer (test/browser/inspector.ts).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { authorizeUrl, exchangeCode, registerUser } from '../helpers/seed.js';
import { startTestServer } from '../helpers/server.js';
import { launchChromium, watchedPage } from './chromium.js';
import { appAuthorization, signInOnPage, startLoopbackApp } from './flows.js';
import { addAndConnect, callWhoami, startInspector } from './inspector.js';

const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

const server = await startTestServer();
const browser = await launchChromium();
try {
  mkdirSync(OUT, { recursive: true });
  const user = await registerUser(server.url, 'alice', 'correct horse battery staple');

  /** A fresh browser (no session) that records console problems: a page that shows one is not pictured. */
  const shoot = async (name: string, show: (page: Page) => Promise<void>) => {
    const { page, context, expectNoProblems } = await watchedPage(browser, { colorScheme: 'light' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await show(page);
    expectNoProblems();
    await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
    await context.close();
    console.log(`docs/screenshots/${name}.png`);
  };

  await shoot('home', async (page) => {
    await page.goto(`${server.url}/`);
  });

  await shoot('login', async (page) => {
    await page.goto(authorizeUrl(server.url));
  });

  const app = await startLoopbackApp(server.url, 'Example MCP host');
  await shoot('consent', async (page) => {
    await page.goto(appAuthorization(server.url, app.host).url);
    await signInOnPage(page, user);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
  });
  await app.close();

  // After the consent above (its Allow not clicked) and this sign-in: the home page and the account page of someone
  // signed in, with client1 among the apps.
  await shoot('account', async (page) => {
    await page.goto(authorizeUrl(server.url));
    await signInOnPage(page, user);
    await page.waitForURL(/\/callback/);
    // client1 exchanges its code, as the walk-through does: the account page then shows when it was last used.
    const exchanged = await exchangeCode(server.url, new URL(page.url()).searchParams.get('code')!);
    if (exchanged.status !== 200) throw new Error(`code exchange: ${exchanged.status}`);
    await page.goto(`${server.url}/account`);
    await page.getByRole('heading', { name: 'Connected apps' }).waitFor();
  });

  await shoot('callback', async (page) => {
    await page.goto(authorizeUrl(server.url));
    await signInOnPage(page, user);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied.').waitFor();
  });

  // Not through shoot(): the Inspector's own page asks for web fonts from the internet, a console error offline.
  const inspector = await startInspector();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const page = await context.newPage();
    await addAndConnect(page, inspector, `${server.url}/mcp`, user);
    await callWhoami(page, ['whoami']);
    await page.screenshot({ path: `${OUT}inspector.png` });
    await context.close();
    console.log('docs/screenshots/inspector.png');
  } finally {
    await inspector.close();
  }
} finally {
  await browser.close();
  await server.close();
}
