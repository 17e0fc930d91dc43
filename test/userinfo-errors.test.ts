import { expect } from 'chai';
import { expectOAuthError } from './helpers/assertions.js';
import { basicAuth, form, tokensFor, type Tokens } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/**
 * GET /oauth/userinfo with bad input: RFC 6750 §3 answers (401 + WWW-Authenticate: Bearer …) as JSON
 * {error, error_description}, never a 500 or a stack trace.
 */

/** The Bearer challenge of RFC 6750 §3, and the error code it carries (if any). */
function bearerChallenge(res: Response, base: string) {
  const header = res.headers.get('www-authenticate');
  expect(header, 'WWW-Authenticate').to.be.a('string');
  expect(header).to.match(/^Bearer\s/);
  expect(header).to.include(`realm="${base}"`);
  return /\berror="([^"]*)"/.exec(header!)?.[1];
}

describe('GET /oauth/userinfo with bad input', () => {
  const server = useTestServer();
  let endpoint: string;
  let tokens: Tokens;
  before(async () => {
    endpoint = `${server.url}/oauth/userinfo`;
    ({ tokens } = await tokensFor(server.url));
  });

  const withAuthorization = (authorization: string) => fetch(endpoint, { headers: { authorization } });

  it('no token → 401 with a Bearer challenge that carries no error code (RFC 6750 §3.1)', async () => {
    const res = await fetch(endpoint);
    expect(bearerChallenge(res, server.url)).to.equal(undefined);
    await expectOAuthError(res, 401, 'invalid_token');
  });

  for (const [label, value] of [
    ['a garbage token', 'garbage'],
    ['a JWT-looking token', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
    ['a 5000-character token', 'a'.repeat(5000)],
  ] as const) {
    it(`${label} → 401 invalid_token, also in WWW-Authenticate`, async () => {
      const res = await withAuthorization(`Bearer ${value}`);
      expect(bearerChallenge(res, server.url)).to.equal('invalid_token');
      await expectOAuthError(res, 401, 'invalid_token');
    });
  }

  it('the refresh token used as an access token → 401 invalid_token', async () => {
    const res = await withAuthorization(`Bearer ${tokens.refresh_token}`);
    expect(bearerChallenge(res, server.url)).to.equal('invalid_token');
    await expectOAuthError(res, 401, 'invalid_token');
  });

  it('the id_token used as an access token → 401 invalid_token', async () => {
    expect(tokens.id_token).to.be.a('string');
    const res = await withAuthorization(`Bearer ${tokens.id_token}`);
    await expectOAuthError(res, 401, 'invalid_token');
  });

  it('a token in the query string is refused, even a valid one → 400 invalid_request', async () => {
    const res = await fetch(`${endpoint}?access_token=${encodeURIComponent(tokens.access_token)}`);
    expect(bearerChallenge(res, server.url)).to.equal('invalid_request');
    const body = await expectOAuthError(res, 400, 'invalid_request');
    expect(body.error_description).to.include('query');
  });

  it('a token in the header and the query string at once → 400 invalid_request', async () => {
    const res = await fetch(`${endpoint}?access_token=x`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    await expectOAuthError(res, 400, 'invalid_request');
  });

  for (const [label, value] of [
    ['a Basic scheme', basicAuth('client1', 'secret1')],
    ['"Bearer" with no token', 'Bearer '],
    ['"Bearer" with two tokens', 'Bearer a b'],
    ['a token without a scheme', 'garbage'],
  ] as const) {
    it(`${label} → 400 invalid_request`, async () => {
      const res = await withAuthorization(value);
      expect(bearerChallenge(res, server.url)).to.equal('invalid_request');
      await expectOAuthError(res, 400, 'invalid_request');
    });
  }

  it('POST with a garbage access_token in a form body → 401 invalid_token', async () => {
    await expectOAuthError(await fetch(endpoint, form({ access_token: 'garbage' })), 401, 'invalid_token');
  });

  it('control: the same access token in the Authorization header works (the refusals above are about how it was sent)', async () => {
    const res = await withAuthorization(`Bearer ${tokens.access_token}`);
    expect(res.status).to.equal(200);
    const body = await res.json();
    expect(body.sub).to.be.a('string');
    expect(body).to.not.have.property('error');
  });
});
