import { expect } from 'chai';
import { expectOAuthError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { authorizeCode, exchangeCode, json, postChunked, raw, registerUser, uniqueName, type Tokens } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/**
 * POST /oauth/login with bad input: 4xx in OAuth's JSON shape, never a 500 or a stack trace, and no session
 * cookie for anything but a correct username and password.
 */

const noSessionCookie = (res: Response) => {
  expect(res.headers.getSetCookie(), 'Set-Cookie on a refused login').to.deep.equal([]);
};

describe('POST /oauth/login with bad input', () => {
  const server = useTestServer();
  let endpoint: string;
  let user: { username: string; password: string; userId: string };
  before(async () => {
    endpoint = `${server.url}/oauth/login`;
    user = await registerUser(server.url, uniqueName('Login'), 'correct-password');
  });

  const login = (username: unknown, password: unknown) => fetch(endpoint, json({ username, password }));

  describe('the body', () => {
    it('malformed JSON → 400 invalid_request, no cookie', async () => {
      const res = await fetch(endpoint, raw(`{"username":"${user.username}","password":"correct-password"`, 'application/json'));
      noSessionCookie(res);
      const body = await expectOAuthError(res, 400, 'invalid_request');
      expect(body.error_description).to.match(/JSON/);
    });

    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      it(`Content-Type ${contentType} → 415, even with correct credentials, no cookie`, async () => {
        const body = contentType === 'text/plain'
          ? JSON.stringify({ username: user.username, password: user.password })
          : new URLSearchParams({ username: user.username, password: user.password }).toString();
        const res = await fetch(endpoint, raw(body, contentType));
        noSessionCookie(res);
        await expectOAuthError(res, 415, 'invalid_request');
      });
    }

    it('a body over 16 KiB with a Content-Length → 413', async () => {
      const res = await fetch(endpoint, raw(JSON.stringify({ username: user.username, password: 'p'.repeat(17 * 1024) }), 'application/json'));
      noSessionCookie(res);
      await expectOAuthError(res, 413, 'invalid_request');
    });

    it('a chunked body (no Content-Length) over 16 KiB → 413', async () => {
      const piece = ' '.repeat(8 * 1024);
      const res = await postChunked(endpoint, [`{"username":"${user.username}",`, piece, piece, piece, `"password":"${user.password}"}`]);
      expect(res.status, res.body).to.equal(413);
      expect(res.headers['set-cookie']).to.equal(undefined);
      expect(JSON.parse(res.body)).to.have.all.keys('error', 'error_description');
      expect(JSON.parse(res.body).error).to.equal('invalid_request');
    });

    for (const [label, body] of [['an array', '[]'], ['a string', '"x"'], ['null', 'null']] as const) {
      it(`a body that is ${label} → 400 invalid_request`, async () => {
        const res = await expectOAuthError(await fetch(endpoint, raw(body, 'application/json')), 400, 'invalid_request');
        expect(res.error_description).to.equal('request body must be a JSON object');
      });
    }

    it('a missing username or password → 400 "… is required"', async () => {
      expect((await expectOAuthError(await fetch(endpoint, json({ password: 'x' })), 400, 'invalid_request')).error_description)
        .to.equal('username is required');
      expect((await expectOAuthError(await fetch(endpoint, json({ username: user.username })), 400, 'invalid_request')).error_description)
        .to.equal('password is required');
    });

    it('empty strings → 400 invalid_request (not 401)', async () => {
      await expectOAuthError(await login('', 'x'), 400, 'invalid_request');
      await expectOAuthError(await login(user.username, ''), 400, 'invalid_request');
    });

    for (const value of [null, 42, ['x'], { a: 1 }]) {
      it(`a username or password of ${JSON.stringify(value)} → 400 invalid_request`, async () => {
        await expectOAuthError(await login(value, user.password), 400, 'invalid_request');
        const res = await login(user.username, value);
        noSessionCookie(res);
        await expectOAuthError(res, 400, 'invalid_request');
      });
    }

    it('a username over 256 characters or a password over 1024 bytes → 400', async () => {
      await expectOAuthError(await login('a'.repeat(257), 'password123'), 400, 'invalid_request');
      await expectOAuthError(await login(user.username, '€'.repeat(342)), 400, 'invalid_request');
    });

    it('GET /oauth/login → 405 with a JSON body', async () => {
      const res = await fetch(endpoint);
      expect(res.headers.get('allow')).to.include('POST');
      await expectOAuthError(res, 405, 'invalid_request');
    });
  });

  describe('wrong credentials', () => {
    it('an unknown user and a wrong password get identical 401 invalid_credentials answers, and no cookie', async () => {
      const unknown = await login(uniqueName('nobody'), 'correct-password');
      const wrong = await login(user.username, 'wrong-password');
      for (const res of [unknown, wrong]) noSessionCookie(res);
      expect(unknown.headers.get('content-type')).to.equal(wrong.headers.get('content-type'));
      expect(unknown.headers.get('cache-control')).to.equal(wrong.headers.get('cache-control'));
      const a = await expectOAuthError(unknown, 401, 'invalid_credentials');
      const b = await expectOAuthError(wrong, 401, 'invalid_credentials');
      expect(a).to.deep.equal(b);
    });

    it('the right password in the wrong letter case is refused like any wrong password', async () => {
      const res = await login(user.username, user.password.toUpperCase());
      noSessionCookie(res);
      await expectOAuthError(res, 401, 'invalid_credentials');
    });

    it('a username that could never have been registered (a space, "@") is just unknown: 401, same body', async () => {
      const wrong = await expectOAuthError(await login(user.username, 'wrong-password'), 401, 'invalid_credentials');
      for (const username of ['no such user', 'someone@example.com', 'ab']) {
        const res = await login(username, 'correct-password');
        noSessionCookie(res);
        expect(await expectOAuthError(res, 401, 'invalid_credentials')).to.deep.equal(wrong);
      }
    });

    it('a refused login does not sign the browser in: /oauth/authorize still lands on the login page', async () => {
      const browser = new Browser(server.url);
      const res = await browser.fetch('/oauth/login', json({ username: user.username, password: 'wrong-password' }));
      await expectOAuthError(res, 401, 'invalid_credentials');
      const { url } = await browser.follow(`/oauth/authorize?client_id=client1&redirect_uri=${encodeURIComponent(`${server.url}/callback`)}&response_type=code`);
      expect(url.pathname).to.match(/^\/interaction\//);
    });
  });

  describe('letter case of the username', () => {
    it('logs in with the username in other letter case, as the same account', async () => {
      for (const variant of [user.username.toLowerCase(), user.username.toUpperCase()]) {
        const browser = new Browser(server.url);
        const res = await browser.fetch('/oauth/login', json({ username: variant, password: user.password }));
        expect(res.status, variant).to.equal(200);
        expect(await res.json()).to.deep.equal({ message: 'Login successful' });
        const { code } = await authorizeCode(browser);
        const tokens = await (await exchangeCode(server.url, code)).json() as Tokens;
        const info = await (await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json();
        expect(info.id).to.equal(user.userId);
        // The username keeps the letter case it was registered with.
        expect(info.username).to.equal(user.username);
      }
    });
  });
});
