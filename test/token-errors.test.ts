import { expect } from 'chai';
import { expectOAuthError, STACK_TRACE } from './helpers/assertions.js';
import type { Browser } from './helpers/browser.js';
import { authorizeCode, basicAuth, exchangeCode, form, loggedInBrowser, type Tokens } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/**
 * POST /oauth/token with bad input: RFC 6749 §5.2 errors, as JSON {error, error_description}, never cached,
 * never a 500 or a stack trace. (A code exchanged twice is covered by the seed-flow tests.)
 */

describe('POST /oauth/token with bad input', () => {
  const server = useTestServer();
  let endpoint: string;
  let browser: Browser;
  before(async () => {
    endpoint = `${server.url}/oauth/token`;
    ({ browser } = await loggedInBrowser(server.url));
  });

  const client = { client_id: 'client1', client_secret: 'secret1' };
  const token = (fields: Record<string, string>, headers: Record<string, string> = {}) => fetch(endpoint, form(fields, headers));
  const freshCode = async () => (await authorizeCode(browser)).code;

  describe('grant_type', () => {
    it('missing → 400 invalid_request naming grant_type', async () => {
      const body = await expectOAuthError(await token({ ...client, code: 'x' }), 400, 'invalid_request');
      expect(body.error_description).to.include('grant_type');
    });

    it('the device_code grant, which only the CLI client may use → 400 invalid_request', async () => {
      const body = await expectOAuthError(await token({ ...client, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x' }), 400, 'invalid_request');
      expect(body.error_description).to.equal('requested grant type is not allowed for this client');
    });

    for (const grantType of ['password', 'client_credentials', 'implicit', 'nonsense']) {
      it(`${grantType} → 400 unsupported_grant_type`, async () => {
        await expectOAuthError(await token({ ...client, grant_type: grantType, username: 'a', password: 'b' }), 400, 'unsupported_grant_type');
      });
    }

    it('given twice → 400 invalid_request', async () => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&grant_type=refresh_token&client_id=client1&client_secret=secret1',
      });
      await expectOAuthError(res, 400, 'invalid_request');
    });
  });

  describe('client authentication', () => {
    it('a wrong client_secret (client_secret_post) → 401 invalid_client', async () => {
      await expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x', redirect_uri: `${server.url}/callback`, client_id: 'client1', client_secret: 'wrong' }), 401, 'invalid_client');
    });

    it('a wrong client_secret (client_secret_basic) → 401 invalid_client with WWW-Authenticate: Basic', async () => {
      const res = await token({ grant_type: 'authorization_code', code: 'x', redirect_uri: `${server.url}/callback` }, { authorization: basicAuth('client1', 'wrong') });
      expect(res.headers.get('www-authenticate')).to.match(/^Basic\b/);
      await expectOAuthError(res, 401, 'invalid_client');
    });

    it('an empty client_secret → 401 invalid_client', async () => {
      await expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x', client_id: 'client1', client_secret: '' }), 401, 'invalid_client');
    });

    it('client_id without any secret → 401 invalid_client', async () => {
      await expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x', client_id: 'client1' }), 401, 'invalid_client');
    });

    it('an unknown client → 401 invalid_client, same answer as a wrong secret', async () => {
      const unknown = await expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x', client_id: 'no-such-client', client_secret: 'secret1' }), 401, 'invalid_client');
      const wrong = await expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x', client_id: 'client1', client_secret: 'wrong' }), 401, 'invalid_client');
      expect(unknown).to.deep.equal(wrong);
    });

    it('no client authentication at all → 400 invalid_request', async () => {
      await expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x' }), 400, 'invalid_request');
    });

    it('a malformed Basic header → 400 invalid_request', async () => {
      await expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x' }, { authorization: 'Basic !!!not-base64' }), 400, 'invalid_request');
    });

    it('Basic and client_secret_post at once → 400 invalid_request', async () => {
      await expectOAuthError(await token({ grant_type: 'authorization_code', code: 'x', ...client }, { authorization: basicAuth('client1', 'secret1') }), 400, 'invalid_request');
    });

    it('a real code with a wrong secret is refused, and is not used up by the refusal', async () => {
      const code = await freshCode();
      await expectOAuthError(await exchangeCode(server.url, code, { client_secret: 'wrong' }), 401, 'invalid_client');
      expect((await exchangeCode(server.url, code)).status).to.equal(200);
    });
  });

  describe('authorization_code', () => {
    it('a missing code → 400 invalid_request naming code', async () => {
      const body = await expectOAuthError(await token({ grant_type: 'authorization_code', redirect_uri: `${server.url}/callback`, ...client }), 400, 'invalid_request');
      expect(body.error_description).to.include('code');
    });

    for (const [label, code] of [['a bogus code', 'bogus'], ['a long random string', 'A'.repeat(2000)], ['a JWT-looking string', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']] as const) {
      it(`${label} → 400 invalid_grant`, async () => {
        await expectOAuthError(await exchangeCode(server.url, code), 400, 'invalid_grant');
      });
    }

    it('a redirect_uri other than the one the code was issued for → 400 invalid_grant', async () => {
      const code = await freshCode();
      await expectOAuthError(await exchangeCode(server.url, code, { redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_grant');
      await expectOAuthError(await exchangeCode(server.url, code, { redirect_uri: `${server.url}/callback?x=1` }), 400, 'invalid_grant');
    });

    it('an access token presented as a code → 400 invalid_grant', async () => {
      const code = await freshCode();
      const tokens = await (await exchangeCode(server.url, code)).json() as Tokens;
      await expectOAuthError(await exchangeCode(server.url, tokens.access_token), 400, 'invalid_grant');
    });
  });

  describe('refresh_token', () => {
    it('a missing refresh_token → 400 invalid_request', async () => {
      const body = await expectOAuthError(await token({ grant_type: 'refresh_token', ...client }), 400, 'invalid_request');
      expect(body.error_description).to.include('refresh_token');
    });

    it('a garbage refresh_token → 400 invalid_grant', async () => {
      await expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: 'garbage', ...client }), 400, 'invalid_grant');
    });

    it('an access token presented as a refresh token → 400 invalid_grant', async () => {
      const tokens = await (await exchangeCode(server.url, await freshCode())).json() as Tokens;
      await expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.access_token, ...client }), 400, 'invalid_grant');
    });
  });

  describe('the request body', () => {
    it('a JSON body instead of a form → 400 invalid_request', async () => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'authorization_code', code: 'x', redirect_uri: `${server.url}/callback`, ...client }),
      });
      const body = await expectOAuthError(res, 400, 'invalid_request');
      expect(body.error_description).to.include('application/x-www-form-urlencoded');
    });

    it('a text/plain body → 400 invalid_request', async () => {
      const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'grant_type=authorization_code' });
      await expectOAuthError(res, 400, 'invalid_request');
    });

    it('no body at all → 400 invalid_request', async () => {
      await expectOAuthError(await fetch(endpoint, { method: 'POST' }), 400, 'invalid_request');
    });

    it('a form that does not parse as key=value pairs → 400 invalid_request', async () => {
      const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '%%%&&&===' });
      await expectOAuthError(res, 400, 'invalid_request');
    });

    it('a 200 KiB form → a 4xx invalid_request, not a 500', async () => {
      const res = await token({ grant_type: 'refresh_token', refresh_token: 'a'.repeat(200 * 1024), ...client });
      const text = await res.text();
      expect(res.status, text).to.be.oneOf([400, 413]);
      expect(text).not.to.match(STACK_TRACE);
      expect(JSON.parse(text).error).to.equal('invalid_request');
    });
  });

  it('GET /oauth/token → 405 with Allow: POST (the endpoint exists; only the method is wrong)', async () => {
    const res = await fetch(endpoint);
    const text = await res.text();
    expect(res.status, text).to.equal(405);
    expect(res.headers.get('allow')).to.include('POST');
    expect(JSON.parse(text)).to.have.all.keys('error', 'error_description');
  });
});
