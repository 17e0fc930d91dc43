import { expect } from 'chai';
import { form, registerUser } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { useChromium } from './chromium.js';
import { activate, expectFocus, signInOnPage } from './flows.js';
import { expectUsablePage } from './page-checks.js';

/**
 * The device authorization grant's pages, as a user of the command-line client goes through them with the
 * keyboard alone.
 */
describe('connecting a device, in chromium', () => {
  const server = useTestServer();
  const chrome = useChromium();

  it('enters the code from POST /oauth/device/auth at /oauth/device with the keyboard, confirms, signs in; the device gets tokens', async () => {
    const started = await fetch(`${server.url}/oauth/device/auth`, form({ client_id: 'mcp-cli' }));
    expect(started.status).to.equal(200);
    const device = await started.json() as { device_code: string; user_code: string };
    const user = await registerUser(server.url);
    const { page, expectNoProblems } = await chrome.open();

    const entry = await page.goto(`${server.url}/oauth/device`);
    expect(entry?.status(), 'GET /oauth/device').to.equal(200);
    expect(await page.locator('h1').textContent()).to.equal('Connect a device');
    await expectUsablePage(page);
    // The page puts the focus in the code field: typing and Enter is all it takes.
    await expectFocus(page, 'textbox "Code"');
    await page.keyboard.type(device.user_code);
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Confirm the device' }).waitFor();
    expect(await page.locator('.user-code code').textContent()).to.equal(device.user_code);
    await expectUsablePage(page);
    // And here on Continue: Enter confirms.
    await activate(page, 'button "Continue"');

    // No session in this browser yet: the login page comes in between.
    await signInOnPage(page, user);
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    await expectUsablePage(page);

    const polled = await fetch(`${server.url}/oauth/token`, form({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: 'mcp-cli',
    }));
    expect(polled.status).to.equal(200);
    expect((await polled.json()).access_token).to.be.a('string');
    expectNoProblems();
  });
});
