import { expect } from 'chai';
import { Redis } from 'ioredis';
import { PARAMETER_LIMITS, PARAMETERS_TOTAL_LIMIT } from '../config/parameter-limits.js';
import { expectHtmlErrorPage, expectOAuthError } from './helpers/assertions.js';
import { keysUnder, requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeUrl, form, pkce } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * The parameters the provider keeps for nobody signed in (an authorization request's in its interaction, pushed
 * request or device code; a sign-out's state in the browser's session) have a size limit each, and one together:
 * a request over one is refused with invalid_request naming it, and nothing of it is stored.
 */

const HTML = { accept: 'text/html' };
const JSON_ONLY = { accept: 'application/json' };
const long = (length: number) => 'x'.repeat(length);
const limit = (name: string) => PARAMETER_LIMITS[name]!;

describe('size limits on the parameters the provider stores', () => {
  const redis = requireRedis();
  let server: TestServer;
  let client: Redis;
  let prefix: string;

  before(async () => {
    prefix = uniquePrefix();
    server = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: prefix });
    client = new Redis(redis.url);
  });
  after(async () => {
    await server?.close();
    await client?.quit();
  });

  /** The records of the provider's models under the server's prefix. */
  const records = async () => (await keysUnder(client, prefix)).filter((key) => /^(Interaction|Session|PushedAuthorizationRequest|DeviceCode):/.test(key));

  /** Sends the request and checks it stored no record. */
  async function storesNothing(send: () => Promise<Response>): Promise<Response> {
    const before = await records();
    const res = await send();
    await res.clone().text();
    expect(await records(), 'records stored by a refused request').to.deep.equal(before);
    return res;
  }

  const authorize = (params: Record<string, string>, headers: Record<string, string> = HTML, path = '/oauth/authorize') => {
    const url = new URL(authorizeUrl(server.url, params));
    url.pathname = path;
    return fetch(url, { headers, redirect: 'manual' });
  };

  describe('at the authorization endpoint', () => {
    it('refuses an oversize state with the error page, not a redirect that would carry it back to the client', async () => {
      const res = await storesNothing(() => authorize({ state: long(limit('state') + 1) }));
      const html = await expectHtmlErrorPage(res, 400, 'invalid_request');
      expect(html).to.include(`state is too long (at most ${limit('state')} characters)`);
    });

    it('answers OAuth\'s JSON to a client that asks for it', async () => {
      const res = await storesNothing(() => authorize({ state: long(5000), nonce: long(5000), scope: 'openid' }, JSON_ONLY));
      const body = await expectOAuthError(res, 400, 'invalid_request');
      expect(body.error_description).to.equal(`state is too long (at most ${limit('state')} characters)`);
    });

    for (const name of ['state', 'nonce', 'login_hint', 'acr_values', 'ui_locales', 'claims_locales']) {
      it(`takes a ${name} of ${limit(name)} characters and refuses one more, naming it`, async () => {
        // nonce needs the openid scope.
        const at = await authorize({ scope: 'openid', [name]: long(limit(name)) });
        expect(at.status).to.equal(303);
        expect(new URL(at.headers.get('location')!, server.url).pathname).to.match(/^\/interaction\//);

        const over = await storesNothing(() => authorize({ scope: 'openid', [name]: long(limit(name) + 1) }));
        const description = `${name} is too long (at most ${limit(name)} characters)`;
        if (name === 'state') {
          expect(await expectHtmlErrorPage(over, 400, 'invalid_request')).to.include(description);
          return;
        }
        // Any other parameter: the provider's error redirect to the client, with the request's state.
        expect(over.status).to.equal(303);
        const location = new URL(over.headers.get('location')!);
        expect(`${location.origin}${location.pathname}`).to.equal(`${server.url}/callback`);
        expect(location.searchParams.get('error')).to.equal('invalid_request');
        expect(location.searchParams.get('error_description')).to.equal(description);
        expect(location.searchParams.get('state')).to.equal('random_state');
      });
    }

    it('an oversize state goes back to no client, even when another parameter is the one refused', async () => {
      const res = await storesNothing(() => authorize({ state: long(limit('state') + 1), nonce: long(limit('nonce') + 1), scope: 'openid' }));
      expect(await expectHtmlErrorPage(res, 400, 'invalid_request')).to.include('state is too long');
    });

    it('holds for every spelling of the path the provider routes', async () => {
      for (const path of ['/oauth/authorize/', '/OAUTH/Authorize', '/Oauth/AUTHORIZE/']) {
        const res = await storesNothing(() => authorize({ state: long(limit('state') + 1) }, JSON_ONLY, path));
        expect((await expectOAuthError(res, 400, 'invalid_request')).error_description, path).to.match(/^state is too long/);
      }
    });
  });

  /** The endpoints where a client posts its request (the public mcp-cli here), with how each answers an accepted one. */
  const posted: { endpoint: string; paths: string[]; accepted: number; fields: Record<string, string>; limited: string[] }[] = [
    {
      endpoint: 'pushed authorization request', paths: ['/oauth/par', '/OAUTH/PAR/', '/oauth/par/'], accepted: 201,
      fields: { response_type: 'code', redirect_uri: 'http://127.0.0.1/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256' },
      limited: ['state', 'nonce', 'login_hint'],
    },
    {
      endpoint: 'device authorization', paths: ['/oauth/device/auth', '/OAUTH/device/AUTH/', '/oauth/device/auth/'], accepted: 200,
      fields: {}, limited: ['nonce', 'login_hint', 'acr_values'],
    },
  ];
  for (const { endpoint, paths, accepted, fields, limited } of posted) {
    it(`at the ${endpoint} endpoint, takes parameters at their limits and refuses one over in OAuth's JSON, storing nothing`, async () => {
      const send = (params: Record<string, string>, path = paths[0]!) =>
        fetch(`${server.url}${path}`, form({ client_id: 'mcp-cli', scope: 'openid', ...fields, ...params }));
      expect((await send(Object.fromEntries(limited.map((name) => [name, long(limit(name))])))).status).to.equal(accepted);
      for (const [i, name] of limited.entries()) {
        const res = await storesNothing(() => send({ [name]: long(20_000) }, paths[i]));
        expect((await expectOAuthError(res, 400, 'invalid_request')).error_description, paths[i])
          .to.equal(`${name} is too long (at most ${limit(name)} characters)`);
      }
    });
  }

  describe('at the end_session endpoint (sign-out)', () => {
    const logout = (params: Record<string, string>, headers: Record<string, string> = HTML, path = '/oauth/logout') =>
      fetch(`${server.url}${path}?${new URLSearchParams(params)}`, { headers, redirect: 'manual' });

    it('takes a state at its limit for a browser nobody signed in with', async () => {
      const res = await logout({ state: long(limit('state')) });
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('/oauth/logout/confirm');
    });

    it('refuses an oversize state before it stores a session, as the error page or OAuth\'s JSON', async () => {
      const page = await storesNothing(() => logout({ state: long(limit('state') + 1) }));
      expect(await expectHtmlErrorPage(page, 400, 'invalid_request')).to.include(`state is too long (at most ${limit('state')} characters)`);
      for (const path of ['/oauth/logout/', '/OAUTH/Logout']) {
        const res = await storesNothing(() => logout({ state: long(limit('state') + 1) }, JSON_ONLY, path));
        expect((await expectOAuthError(res, 400, 'invalid_request')).error_description, path).to.match(/^state is too long/);
      }
    });

    it('refuses each of its other parameters over its limit, and all of them together over the total', async () => {
      for (const name of ['ui_locales', 'logout_hint', 'post_logout_redirect_uri', 'id_token_hint', 'client_id']) {
        const res = await storesNothing(() => logout({ [name]: long(limit(name) + 1) }, JSON_ONLY));
        expect((await expectOAuthError(res, 400, 'invalid_request')).error_description, name).to.match(new RegExp(`^${name} is too long`));
      }
      const together = {
        state: long(limit('state')), ui_locales: long(limit('ui_locales')), logout_hint: long(limit('logout_hint')),
        client_id: long(limit('client_id')), id_token_hint: long(limit('id_token_hint')),
        post_logout_redirect_uri: long(limit('post_logout_redirect_uri')),
      };
      expect(Object.values(together).join('').length).to.be.above(PARAMETERS_TOTAL_LIMIT);
      const res = await storesNothing(() => logout(together, JSON_ONLY));
      expect((await expectOAuthError(res, 400, 'invalid_request')).error_description)
        .to.equal(`the request's parameters are too long together (at most ${PARAMETERS_TOTAL_LIMIT} characters)`);
    });
  });
});
