import { expect } from 'chai';
import { Browser } from './helpers/browser.js';
import { enterDeviceCode } from './helpers/device.js';
import { authorizeCode, authorizeUrl, basicAuth, exchangeCode, form, json, loggedInBrowser, registerUser, type Tokens } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { RESOURCE_SERVER_ENV, RS } from './helpers/third-party.js';

/** Headers that must hold on whole kinds of responses, over the real server. */

/** A Browser that keeps every response it is given, redirects included, to look at their headers afterwards. */
class RecordingBrowser extends Browser {
  readonly responses: Response[] = [];

  override async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await super.fetch(path, init);
    this.responses.push(res);
    return res;
  }
}

const codeInLocation = (res: Response) => new URL(res.headers.get('location') ?? '', res.url).searchParams.get('code');

describe('response headers', () => {
  describe('every response that carries a code or a token', () => {
    const server = useTestServer(RESOURCE_SERVER_ENV);

    /**
     * One row per kind of response: how to get one, and the secret it carries (checked, so a row that went
     * wrong cannot pass on an error's own no-store). The rows run in order: some keep what they carry for later ones.
     */
    interface Row {
      what: string;
      respond: () => Promise<Response>;
      carries: (res: Response, body: string) => unknown;
    }

    it('is never cached (Cache-Control: no-store)', async () => {
      const base = server.url;
      const { browser } = await loggedInBrowser(base);
      const user = await registerUser(base);
      const pageBrowser = new RecordingBrowser(base);
      let tokens: Tokens;
      let device: { device_code: string; user_code: string };
      let client: { registration_client_uri: string; registration_access_token: string; client_secret: string };

      const rows: Row[] = [
        {
          what: 'the authorization redirect of a signed-in browser (code in Location)',
          respond: () => browser.fetch(authorizeUrl(base)),
          carries: (res) => res.status === 303 && codeInLocation(res),
        },
        {
          what: 'the authorization redirect after the login page (/oauth/authorize/:uid, code in Location)',
          async respond() {
            const { res } = await pageBrowser.follow(authorizeUrl(base));
            await pageBrowser.submit(await res.text(), '/login', { username: user.username, password: user.password });
            return pageBrowser.responses.find(codeInLocation) ?? pageBrowser.responses.at(-1)!;
          },
          carries: (res) => res.status === 303 && /^\/oauth\/authorize\/./.test(new URL(res.url).pathname) && codeInLocation(res),
        },
        {
          what: 'the response_mode=form_post page',
          respond: () => browser.fetch(authorizeUrl(base, { response_mode: 'form_post' })),
          carries: (res, body) => res.status === 200 && /<input type="hidden" name="code" value="[\w-]{20,}"/.exec(body),
        },
        {
          what: 'the token endpoint, authorization_code grant',
          respond: async () => exchangeCode(base, (await authorizeCode(browser)).code),
          carries: (res, body) => res.status === 200 && (tokens = JSON.parse(body)).refresh_token,
        },
        {
          what: 'the token endpoint, refresh_token grant',
          respond: () => fetch(`${base}/oauth/token`, form({
            grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'client1', client_secret: 'secret1',
          })),
          carries: (res, body) => res.status === 200 && JSON.parse(body).access_token,
        },
        {
          what: 'the device authorization endpoint (POST /oauth/device/auth)',
          respond: () => fetch(`${base}/oauth/device/auth`, form({ client_id: 'mcp-cli' })),
          carries: (res, body) => res.status === 200 && (device = JSON.parse(body)).device_code,
        },
        {
          what: 'the token endpoint, device_code grant',
          async respond() {
            expect((await enterDeviceCode(browser, device.user_code)).status).to.equal(200);
            return fetch(`${base}/oauth/token`, form({
              grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: 'mcp-cli',
            }));
          },
          carries: (res, body) => res.status === 200 && JSON.parse(body).access_token,
        },
        {
          what: 'dynamic client registration (POST /oauth/clients)',
          respond: () => fetch(`${base}/oauth/clients`, json({ redirect_uris: ['https://app.example/cb'], client_name: 'headers' })),
          carries: (res, body) => res.status === 201 && (client = JSON.parse(body)).registration_access_token && client.client_secret,
        },
        {
          what: 'the registered client, read with its registration access token',
          respond: () => fetch(client.registration_client_uri, { headers: { authorization: `Bearer ${client.registration_access_token}` } }),
          carries: (res, body) => res.status === 200 && JSON.parse(body).client_secret,
        },
        {
          what: 'a pushed authorization request (POST /oauth/par)',
          respond: () => fetch(`${base}/oauth/par`, form(
            { client_id: 'client1', redirect_uri: `${base}/callback`, response_type: 'code' },
            { authorization: basicAuth('client1', 'secret1') },
          )),
          carries: (res, body) => res.status === 201 && JSON.parse(body).request_uri,
        },
        {
          what: 'introspection by the resource server',
          respond: () => fetch(`${base}/oauth/introspect`, form({ token: tokens.access_token }, { authorization: basicAuth(RS.id, RS.secret) })),
          carries: (res, body) => res.status === 200 && JSON.parse(body).active === true,
        },
      ];

      const cached: Record<string, string | null> = {};
      for (const row of rows) {
        const res = await row.respond();
        // A redirect the browser followed has had its body dropped already.
        const body = res.bodyUsed ? '' : await res.text();
        expect(row.carries(res, body), `${row.what}: ${res.status} ${res.headers.get('location') ?? ''} ${body.slice(0, 300)}`)
          .to.be.ok;
        const cacheControl = res.headers.get('cache-control');
        if (cacheControl !== 'no-store') cached[row.what] = cacheControl;
      }
      expect(cached, 'responses without Cache-Control: no-store').to.deep.equal({});
    });
  });

  describe('Strict-Transport-Security', () => {
    /** Pages as a browser gets them: the login page, the device code page and the callback page. */
    async function pages(base: string, issuer: string, headers: Record<string, string> = {}) {
      const browser = new Browser(base);
      const authorize = await browser.fetch(authorizeUrl(base, { redirect_uri: `${issuer}/callback` }), { headers });
      expect(authorize.status).to.equal(303);
      const login = new URL(authorize.headers.get('location')!, issuer);
      expect(login.pathname).to.match(/^\/interaction\//);
      const responses = {
        'login page': await browser.fetch(login.pathname, { headers }),
        'device code page': await browser.fetch('/oauth/device', { headers }),
        'callback page': await browser.fetch('/callback?code=a-code&state=a-state', { headers }),
      };
      for (const [what, res] of Object.entries(responses)) {
        expect(res.status, what).to.equal(200);
        expect(res.headers.get('content-type'), what).to.match(/^text\/html/);
      }
      return responses;
    }

    describe('of an http issuer', () => {
      const server = useTestServer();

      it('is not sent on its pages', async () => {
        for (const [what, res] of Object.entries(await pages(server.url, server.url))) {
          expect(res.headers.get('strict-transport-security'), what).to.equal(null);
        }
      });
    });

    describe('of an https issuer behind a TLS-terminating proxy', () => {
      const proxied = useTestServer({ ISSUER: 'https://auth.example.test', TRUST_PROXY: 'true' });

      it('is sent on its pages, for at least a year', async () => {
        const local = `http://127.0.0.1:${(proxied.server.running.server.address() as { port: number }).port}`;
        for (const [what, res] of Object.entries(await pages(local, proxied.url, { 'x-forwarded-proto': 'https' }))) {
          const maxAge = /^max-age=(\d+)/.exec(res.headers.get('strict-transport-security') ?? '');
          expect(maxAge, `${what}: ${res.headers.get('strict-transport-security')}`).to.not.equal(null);
          expect(Number(maxAge![1]), what).to.be.at.least(365 * 24 * 60 * 60);
        }
      });
    });
  });
});
