import { expect } from 'chai';
import { expectHtmlErrorPage, expectHtmlPage, expectOAuthError, STACK_TRACE } from './helpers/assertions.js';
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

  describe('a device page posted to without a stored session', () => {
    /** The sessions and interactions the provider stores while `request` runs. */
    const storedDuring = async <T>(request: () => Promise<T>) => {
      const { provider } = server.server.running.app;
      const stored: string[] = [];
      const record = (kind: string) => () => stored.push(kind);
      const onSession = record('session');
      const onInteraction = record('interaction');
      provider.on('session.saved', onSession).on('interaction.saved', onInteraction);
      try {
        return { result: await request(), stored };
      } finally {
        provider.off('session.saved', onSession).off('interaction.saved', onInteraction);
      }
    };
    const codePage = () => `${server.url}/oauth/device`;

    it('POST /oauth/device without a session cookie is a 400 page that sends the user back to the code page; nothing is stored', async () => {
      const device = await startDevice();
      const { result: res, stored } = await storedDuring(() => fetch(codePage(), form({ xsrf: 'x', user_code: device.user_code })));
      const html = await expectHtmlErrorPage(res, 400, 'invalid_request');
      expect(decodeEntities(html)).to.include(`Open ${codePage()} again`);
      expect(stored).to.deep.equal([]);
      // The code was not touched: a signed-in user can still enter it.
      const { browser } = await loggedInBrowser(server.url);
      expect((await enterDeviceCode(browser, device.user_code)).html).to.include('Device connected');
    });

    it('asking for JSON, the same POST gets the OAuth error instead', async () => {
      const res = await fetch(codePage(), form({ xsrf: 'x', user_code: 'ABCD-EFGH' }, { accept: 'application/json' }));
      const body = await expectOAuthError(res, 400, 'invalid_request');
      expect(body.error_description).to.equal('could not find device form details');
    });

    it('without xsrf, with no body at all, or with a cookie that does not verify, the answer is the same 400 page', async () => {
      const variants: Array<[string, RequestInit]> = [
        ['no xsrf', form({ user_code: 'ABCD-EFGH' })],
        ['no body', { method: 'POST' }],
        ['an unsigned cookie', form({ xsrf: 'x', user_code: 'ABCD-EFGH' }, { cookie: '_session=garbage' })],
        ['a forged signature', form({ xsrf: 'x', user_code: 'ABCD-EFGH' }, { cookie: '_session=garbage; _session.sig=forged' })],
      ];
      for (const [variant, init] of variants) {
        const { result: res, stored } = await storedDuring(() => fetch(codePage(), init));
        // A forged signature only gets its .sig cookie cleared.
        expect(res.headers.getSetCookie().filter((c) => !/expires=Thu, 01 Jan 1970/.test(c)), variant).to.deep.equal([]);
        const html = await expectHtmlPage(res, 400);
        expect(html, variant).to.include('Error code: <code>invalid_request</code>');
        expect(stored, variant).to.deep.equal([]);
      }
    });

    it('with a signed cookie whose session is gone from storage, the form comes back with a fresh xsrf that works', async () => {
      const device = await startDevice();
      const browser = new Browser(server.url);
      const page = await (await browser.follow('/oauth/device')).res.text();
      await server.server.running.app.provider.Session.adapter.destroy(browser.cookies.get('_session')!);
      const again = await browser.submit(page, '/oauth/device', { user_code: device.user_code });
      const form = await expectHtmlPage(again.res, 400);
      expect(form).to.include('name="user_code"');
      const entered = await browser.submit(form, '/oauth/device', { user_code: device.user_code });
      expect(await entered.res.text()).to.include('op.deviceConfirmForm');
    });

    it('a form from an older page of the same session says it expired, and the form drawn now works', async () => {
      const device = await startDevice();
      const browser = new Browser(server.url);
      const old = await (await browser.follow('/oauth/device')).res.text();
      await browser.follow('/oauth/device');
      const stale = await browser.submit(old, '/oauth/device', { user_code: device.user_code });
      const form = await expectHtmlPage(stale.res, 400);
      expect(decodeEntities(form)).to.include('This form had expired. Enter the code again.');
      const entered = await browser.submit(form, '/oauth/device', { user_code: device.user_code });
      expect(await entered.res.text()).to.include('op.deviceConfirmForm');
    });

    it('GET /oauth/device/<unknown uid> without a session is the same 400 page (or JSON when asked for)', async () => {
      const { result: res, stored } = await storedDuring(() => fetch(`${codePage()}/no-such-uid`));
      await expectHtmlErrorPage(res, 400, 'invalid_request');
      expect(stored).to.deep.equal([]);
      await expectOAuthError(await fetch(`${codePage()}/no-such-uid`, { headers: { accept: 'application/json' } }), 400, 'invalid_request');
    });

    it('GET /oauth/device/<unknown uid> with a session shows the code form again', async () => {
      const browser = new Browser(server.url);
      await (await browser.follow('/oauth/device')).res.text();
      const { res } = await browser.follow('/oauth/device/no-such-uid');
      expect(await expectHtmlPage(res, 400)).to.include('name="user_code"');
    });

    it('nothing else under /oauth/device answers 500: other methods and paths, and bad device authorization requests', async () => {
      const requests: Array<[string, RequestInit, number, string]> = [
        ['/oauth/device/no-such-uid', form({ xsrf: 'x' }), 404, 'not_found'],
        ['/oauth/device/no-such-uid/more', form({ xsrf: 'x' }), 404, 'not_found'],
        ['/oauth/device', { method: 'PUT' }, 405, 'invalid_request'],
        ['/oauth/device/auth', { method: 'POST' }, 400, 'invalid_request'],
        ['/oauth/device/auth', form({ client_id: 'no-such-client' }), 401, 'invalid_client'],
        ['/oauth/device/auth', form({ client_id: 'mcp-cli', resource: 'https://elsewhere.example/' }), 400, 'invalid_target'],
        ['/oauth/device/auth', form({ client_id: 'mcp-cli', scope: 'openid\u0000' }), 400, 'invalid_scope'],
        ['/oauth/device/auth', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"client_id":"mcp-cli"}' }, 400, 'invalid_request'],
        ['/oauth/device/auth', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=mcp-cli&client_id=mcp-cli' }, 400, 'invalid_request'],
      ];
      for (const [path, init, status, error] of requests) {
        const res = await fetch(`${server.url}${path}`, init);
        const text = await res.text();
        expect(res.status, `${init.method} ${path}: ${text}`).to.equal(status);
        expect(text).to.not.match(STACK_TRACE);
        expect(JSON.parse(text).error, `${init.method} ${path}`).to.equal(error);
      }
    });
  });
});
