import { expect } from 'chai';
import { Browser, decodeEntities } from './helpers/browser.js';
import { enterDeviceCode } from './helpers/device.js';
import { form, loggedInBrowser, registerUser, type Tokens } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval?: number;
}

/** The device authorization grant (RFC 8628) for the command-line client, with its pages in our style. */
describe('the device authorization grant', () => {
  const server = useTestServer();

  const startDevice = async (extra: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/oauth/device/auth`, form({ client_id: 'mcp-cli', ...extra }));
    expect(res.status).to.equal(200);
    return await res.json() as DeviceAuthorization;
  };
  const poll = (deviceCode: string) => fetch(`${server.url}/oauth/token`, form({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: 'mcp-cli' }));

  it('starts with a user code, a verification URI on this server, and a polling interval', async () => {
    const device = await startDevice();
    expect(device.user_code).to.match(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(device.verification_uri).to.equal(`${server.url}/oauth/device`);
    expect(device.verification_uri_complete).to.include(encodeURIComponent(device.user_code).slice(0, 4));
    // interval is optional (RFC 8628 §3.2): clients then poll every 5 seconds.
    expect(device.expires_in).to.be.a('number').and.above(60);
    const pending = await poll(device.device_code);
    expect(pending.status).to.equal(400);
    expect((await pending.json()).error).to.equal('authorization_pending');
  });

  it('a signed-in user enters the code and confirms; the device then gets tokens for the MCP resource', async () => {
    const device = await startDevice({ resource: `${server.url}/mcp` });
    const { browser } = await loggedInBrowser(server.url);
    const done = await enterDeviceCode(browser, device.user_code);
    expect(done.status).to.equal(200);
    expect(done.html).to.include('Device connected').and.include('mcp-oauth command line');
    const res = await poll(device.device_code);
    expect(res.status).to.equal(200);
    const tokens = await res.json() as Tokens;
    expect(tokens.scope!.split(' ').sort()).to.deep.equal(['notes:read', 'notes:write']);
    expect(tokens.refresh_token).to.be.a('string');
  });

  it('without a session, the user signs in on the login page on the way', async () => {
    const device = await startDevice();
    const user = await registerUser(server.url);
    const browser = new Browser(server.url);
    const { res } = await browser.follow('/oauth/device');
    const entered = await browser.submit(await res.text(), '/oauth/device', { user_code: device.user_code });
    const confirmPage = await entered.res.text();
    const confirmed = await browser.submit(confirmPage, '/oauth/device', {});
    expect(confirmed.url.pathname).to.match(/^\/interaction\//);
    const login = await browser.submit(await confirmed.res.text(), '/login', { username: user.username, password: user.password });
    expect(await login.res.text()).to.include('Device connected');
    expect((await poll(device.device_code)).status).to.equal(200);
  });

  it('a wrong code shows the form again with a readable error, escaped', async () => {
    const { browser } = await loggedInBrowser(server.url);
    const done = await enterDeviceCode(browser, '<b>WXYZ</b>');
    expect(done.html).to.include('That code is not right');
    expect(done.html).to.not.include('<b>WXYZ</b>');
    expect(decodeEntities(done.html)).to.include('<b>WXYZ</b>');
  });

  it('cancelling on the confirm page tells the polling device access_denied', async () => {
    const device = await startDevice();
    const { browser } = await loggedInBrowser(server.url);
    const done = await enterDeviceCode(browser, device.user_code, 'cancel');
    expect(done.html).to.include('cancelled');
    const res = await poll(device.device_code);
    expect(res.status).to.equal(400);
    expect((await res.json()).error).to.equal('access_denied');
  });

  it('a device code works once', async () => {
    const device = await startDevice();
    const { browser } = await loggedInBrowser(server.url);
    await enterDeviceCode(browser, device.user_code);
    expect((await poll(device.device_code)).status).to.equal(200);
    const again = await poll(device.device_code);
    expect(again.status).to.equal(400);
    expect((await again.json()).error).to.equal('invalid_grant');
  });

  it('the code-entry page has no inline script or event handler (it must work under the CSP)', async () => {
    const { res } = await new Browser(server.url).follow('/oauth/device');
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).to.not.match(/<script(?![^>]*\bsrc=)|\son[a-z]+=/i);
    expect(res.headers.get('cache-control')).to.equal('no-store');
  });

  it('refuses a client that may not use the grant', async () => {
    const res = await fetch(`${server.url}/oauth/device/auth`, form({ client_id: 'client1', client_secret: 'secret1' }));
    expect(res.status).to.equal(400);
    const body = await res.json();
    expect(body.error).to.equal('invalid_request');
    expect(body.error_description).to.equal('urn:ietf:params:oauth:grant-type:device_code is not allowed for this client');
  });
});
