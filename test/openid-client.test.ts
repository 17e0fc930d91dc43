import { expect } from 'chai';
import * as client from 'openid-client';
import { Browser } from './helpers/browser.js';
import { json, registerUser } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/**
 * A certified relying-party library (openid-client v6) against the server: discovery, the authorization code
 * flow with PKCE S256 + nonce + state, the ID token checks (iss, aud, nonce, and its signature against the
 * published JWKS), userinfo with the expected subject, and the refresh token grant.
 */

interface Sent {
  url: URL;
  method: string;
  headers: Headers;
  body: URLSearchParams;
}

/** A client configuration from discovery, recording every request the library sends after discovery. */
async function relyingParty(issuer: string, auth: client.ClientAuth) {
  const config = await client.discovery(new URL(issuer), 'client1', undefined, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
  const sent: Sent[] = [];
  config[client.customFetch] = async (url, options) => {
    const body = typeof options.body === 'string' ? new URLSearchParams(options.body)
      : options.body instanceof URLSearchParams ? new URLSearchParams(options.body) : new URLSearchParams();
    sent.push({ url: new URL(url), method: options.method, headers: new Headers(options.headers), body });
    return fetch(url, options);
  };
  return { config, sent };
}

/** The request parameters of one authorization request, and what the client must remember for the callback. */
async function authorizationRequest(config: client.Configuration) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${config.serverMetadata().issuer}/callback`,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  return { url, codeVerifier, nonce, state };
}

/** The user signs in through the JSON endpoints first; the authorization request then goes straight to /callback. */
async function callbackAfterJsonLogin(base: string, authorizeUrl: URL) {
  const user = await registerUser(base);
  const browser = new Browser(base);
  const login = await browser.fetch('/oauth/login', json({ username: user.username, password: user.password }));
  expect(login.status).to.equal(200);
  const { url } = await browser.follow(authorizeUrl.href);
  expect(url.pathname, url.href).to.equal('/callback');
  return { user, callback: url };
}

/** No session: the authorization request shows the login page, and submitting its form ends at /callback. */
async function callbackAfterPageLogin(base: string, authorizeUrl: URL) {
  const user = await registerUser(base);
  const browser = new Browser(base);
  const page = await browser.follow(authorizeUrl.href);
  expect(page.url.pathname).to.match(/^\/interaction\/[^/]+$/);
  expect(page.res.status).to.equal(200);
  const { url } = await browser.submit(await page.res.text(), '/login', { username: user.username, password: user.password });
  expect(url.pathname, url.href).to.equal('/callback');
  return { user, callback: url };
}

describe('openid-client v6 (a certified relying party) against the server', () => {
  const server = useTestServer();

  it('discovers the issuer, its endpoints, PKCE S256 and both client_secret methods', async () => {
    const { config } = await relyingParty(server.url, client.ClientSecretBasic('secret1'));
    const meta = config.serverMetadata();
    expect(meta.issuer).to.equal(server.url);
    expect(meta.authorization_endpoint).to.equal(`${server.url}/oauth/authorize`);
    expect(meta.token_endpoint).to.equal(`${server.url}/oauth/token`);
    expect(meta.userinfo_endpoint).to.equal(`${server.url}/oauth/userinfo`);
    expect(meta.jwks_uri).to.equal(`${server.url}/oauth/jwks`);
    expect(meta.end_session_endpoint).to.equal(`${server.url}/oauth/logout`);
    expect(meta.supportsPKCE('S256')).to.equal(true);
    expect(meta.code_challenge_methods_supported).to.not.include('plain');
    expect(meta.response_types_supported).to.deep.equal(['code']);
    expect(meta.token_endpoint_auth_methods_supported).to.include.members(['client_secret_basic', 'client_secret_post']);
    expect(meta.scopes_supported).to.include.members(['openid', 'profile']);
    expect(meta.authorization_response_iss_parameter_supported).to.equal(true);
  });

  const methods = [
    { name: 'client_secret_basic', auth: () => client.ClientSecretBasic('secret1') },
    { name: 'client_secret_post', auth: () => client.ClientSecretPost('secret1') },
  ];
  const logins = [
    { name: 'after a JSON login (POST /oauth/login)', complete: callbackAfterJsonLogin },
    { name: 'through the login page (no session yet)', complete: callbackAfterPageLogin },
  ];

  for (const method of methods) {
    for (const login of logins) {
      it(`${method.name}, ${login.name}: code + PKCE S256 + nonce + state → ID token, userinfo, refresh`, async () => {
        const { config, sent } = await relyingParty(server.url, method.auth());
        const request = await authorizationRequest(config);
        expect(request.url.searchParams.get('code_challenge_method')).to.equal('S256');

        const { user, callback } = await login.complete(server.url, request.url);
        expect(callback.searchParams.get('state')).to.equal(request.state);
        expect(callback.searchParams.get('iss')).to.equal(server.url);

        // Checks the state and iss of the response, sends the verifier, validates the ID token (signature, iss, aud, nonce).
        const tokens = await client.authorizationCodeGrant(config, callback, {
          expectedNonce: request.nonce,
          expectedState: request.state,
          pkceCodeVerifier: request.codeVerifier,
        });
        expect(tokens.token_type.toLowerCase()).to.equal('bearer');
        expect(tokens.expires_in).to.equal(3600);
        expect(tokens.access_token).to.be.a('string').and.not.be.empty;
        expect(tokens.refresh_token).to.be.a('string').and.not.be.empty;
        expect(tokens.id_token).to.be.a('string');
        expect(tokens.scope?.split(' ')).to.include.members(['openid', 'profile']);

        const idToken = tokens.claims()!;
        expect(idToken.iss).to.equal(server.url);
        expect(idToken.sub).to.equal(user.userId);
        expect([idToken.aud].flat()).to.include('client1');
        expect(idToken.nonce).to.equal(request.nonce);

        // The ID token signature was checked against the published key set.
        expect(sent.some((r) => r.method === 'GET' && r.url.href === `${server.url}/oauth/jwks`), 'JWKS fetched').to.equal(true);

        // The client authenticated at the token endpoint the way it was told to, and sent the PKCE verifier.
        const grant = sent.find((r) => r.url.pathname === '/oauth/token' && r.body.get('grant_type') === 'authorization_code');
        expect(grant, 'token request').to.not.equal(undefined);
        expect(grant!.body.get('code_verifier')).to.equal(request.codeVerifier);
        if (method.name === 'client_secret_basic') {
          expect(grant!.headers.get('authorization')).to.match(/^Basic /);
          expect(grant!.body.has('client_secret')).to.equal(false);
        } else {
          expect(grant!.headers.get('authorization')).to.equal(null);
          expect(grant!.body.get('client_id')).to.equal('client1');
          expect(grant!.body.get('client_secret')).to.equal('secret1');
        }

        const info = await client.fetchUserInfo(config, tokens.access_token, user.userId);
        expect(info.sub).to.equal(user.userId);
        expect(info.id).to.equal(user.userId);
        expect(info.username).to.equal(user.username);

        const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
        expect(refreshed.access_token).to.be.a('string').and.not.equal(tokens.access_token);
        expect(refreshed.expires_in).to.equal(3600);
        expect(refreshed.id_token, 'a refreshed ID token').to.be.a('string');
        expect(refreshed.claims()!.sub).to.equal(user.userId);
        const again = await client.fetchUserInfo(config, refreshed.access_token, user.userId);
        expect(again.username).to.equal(user.username);
      });
    }
  }

  it('fetchUserInfo refuses a response for another subject (the server answers for the token\'s user)', async () => {
    const { config } = await relyingParty(server.url, client.ClientSecretBasic('secret1'));
    const request = await authorizationRequest(config);
    const { user, callback } = await callbackAfterJsonLogin(server.url, request.url);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      expectedNonce: request.nonce, expectedState: request.state, pkceCodeVerifier: request.codeVerifier,
    });
    const someoneElse = '00000000-0000-4000-8000-000000000000';
    let failure: unknown;
    try {
      await client.fetchUserInfo(config, tokens.access_token, someoneElse);
    } catch (err) {
      failure = err;
    }
    expect(failure, 'fetchUserInfo should have thrown').to.be.instanceOf(Error);
    expect((failure as { code?: string }).code).to.equal('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED');
    // …while the server itself answered 200 for the token's own user.
    const own = await client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck);
    expect(own.sub).to.equal(user.userId);
  });

  it('a PKCE verifier that does not match the challenge fails with invalid_grant', async () => {
    const { config } = await relyingParty(server.url, client.ClientSecretBasic('secret1'));
    const request = await authorizationRequest(config);
    const { callback } = await callbackAfterJsonLogin(server.url, request.url);
    let failure: unknown;
    try {
      await client.authorizationCodeGrant(config, callback, {
        expectedNonce: request.nonce,
        expectedState: request.state,
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
      });
    } catch (err) {
      failure = err;
    }
    expect(failure, 'the grant should have been refused').to.be.instanceOf(client.ResponseBodyError);
    const error = failure as client.ResponseBodyError;
    expect(error.status).to.equal(400);
    expect(error.error).to.equal('invalid_grant');
  });

  it('a code issued with a PKCE challenge is refused without a verifier (invalid_grant)', async () => {
    const { config } = await relyingParty(server.url, client.ClientSecretPost('secret1'));
    const request = await authorizationRequest(config);
    const { callback } = await callbackAfterJsonLogin(server.url, request.url);
    const res = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: `${server.url}/callback`,
        client_id: 'client1',
        client_secret: 'secret1',
      }),
    });
    expect(res.status).to.equal(400);
    expect((await res.json()).error).to.equal('invalid_grant');
  });
});
