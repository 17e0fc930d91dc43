import { expect } from 'chai';
import * as client from 'openid-client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { Browser, decodeEntities } from './helpers/browser.js';
import { mcpPost, noteTexts, toolCall, type ToolResult } from './helpers/mcp.js';
import { freePort } from './helpers/redis.js';
import { registerUser } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { interactionPage, signInThere } from './helpers/third-party.js';

/**
 * A third-party MCP host's whole journey, end to end, with real client libraries on the host's side: the MCP SDK's
 * own client (401 → discovery → DCR → PKCE authorization → consent → code → tokens → tools, 403 insufficient_scope →
 * step-up, refresh without a new login), and openid-client v6 as a strict, independent OAuth client of the same flow.
 */

/** The text of each item of a consent page's scope list, entities decoded. */
const listedScopes = (html: string) => {
  const list = /<ul class="scopes"[^>]*>([\s\S]*?)<\/ul>/.exec(html);
  expect(list, 'a list of what the app may do').to.not.equal(null);
  return [...list![1]!.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => decodeEntities(m[1]!.replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim());
};

/** WWW-Authenticate auth-params, unquoted. */
const challengeParams = (header: string | null) =>
  Object.fromEntries([...(header ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));

/**
 * The host's OAuthClientProvider: a public client on a loopback redirect URI that keeps everything the SDK hands it
 * in memory, unchanged, and records (and counts) every call the SDK makes.
 */
class JourneyHost implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrls: URL[] = [];
  savedTokens: OAuthTokens[] = [];
  savedClientInformation: OAuthClientInformationMixed[] = [];

  constructor(readonly redirectUri: string, readonly scope: string, info?: OAuthClientInformationMixed) {
    this.info = info;
  }

  get redirectUrl() {
    return this.redirectUri;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      redirect_uris: [this.redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: this.scope,
      client_name: 'Journey host',
    };
  }

  clientInformation() {
    return this.info;
  }

  saveClientInformation(info: OAuthClientInformationMixed) {
    this.savedClientInformation.push(info);
    this.info = info;
  }

  tokens() {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens) {
    this.savedTokens.push(tokens);
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
  }

  get lastAuthorizationUrl(): URL {
    expect(this.authorizationUrls, 'redirectToAuthorization was called').to.not.be.empty;
    return this.authorizationUrls.at(-1)!;
  }

  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }

  codeVerifier() {
    return this.verifier;
  }
}

/** Where the user's browser is sent back to the host: the Location of the last redirect, on the host's origin. */
function codeAtHost(step: { res: Response; url: URL }, redirectUri: string): string {
  expect(step.res.status, 'a redirect back to the host').to.be.within(300, 399);
  const location = new URL(step.res.headers.get('location')!, step.url);
  expect(`${location.origin}${location.pathname}`).to.equal(redirectUri);
  expect(location.searchParams.has('error'), location.href).to.equal(false);
  const code = location.searchParams.get('code');
  expect(code, `a code in ${location.href}`).to.be.a('string').and.not.be.empty;
  return code!;
}

describe('an MCP host, from nothing to tools, with real client libraries', () => {
  const server = useTestServer();

  it("the SDK's client: 401 → discovery → DCR → PKCE + consent → tools; 403 insufficient_scope → step-up; refresh by itself", async () => {
    const mcpUrl = new URL(`${server.url}/mcp`);
    const redirectUri = `http://127.0.0.1:${await freePort()}/cb`;
    const host = new JourneyHost(redirectUri, 'notes:read');

    // 1. The first connect meets the 401; the SDK finds the PRM and the AS metadata, registers, and sends the user off.
    const first = new Client({ name: 'journey-host', version: '1.0.0' });
    let refused: unknown;
    await first.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: host })).catch((err: unknown) => { refused = err; });
    expect(refused).to.be.instanceOf(UnauthorizedError);
    expect(host.savedClientInformation, 'dynamic client registration').to.have.length(1);
    const clientId = host.info!.client_id;
    expect(clientId).to.be.a('string').and.not.be.empty;
    expect(host.info).to.not.have.property('client_secret');
    let authorization = host.lastAuthorizationUrl;
    expect(`${authorization.origin}${authorization.pathname}`).to.equal(`${server.url}/oauth/authorize`);
    expect(authorization.searchParams.get('client_id')).to.equal(clientId);
    expect(authorization.searchParams.get('redirect_uri')).to.equal(redirectUri);
    expect(authorization.searchParams.get('code_challenge')).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(authorization.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(authorization.searchParams.get('resource')).to.equal(`${server.url}/mcp`);
    // SEP-835: the scope of the 401's challenge wins over clientMetadata.scope, and this server's 401 names both
    // MCP scopes; so the SDK's automatic flow asks for everything.
    expect(authorization.searchParams.get('scope')).to.equal('notes:read notes:write');

    // A least-privilege host asks for notes:read only, through the SDK's auth() helper: it reuses the
    // registration (no second DCR) and makes a new PKCE authorization request.
    expect(await auth(host, { serverUrl: mcpUrl, scope: 'notes:read' })).to.equal('REDIRECT');
    expect(host.savedClientInformation, 'no second registration').to.have.length(1);
    expect(host.authorizationUrls).to.have.length(2);
    authorization = host.lastAuthorizationUrl;
    expect(authorization.searchParams.get('scope')).to.equal('notes:read');
    expect(authorization.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(authorization.searchParams.get('resource')).to.equal(`${server.url}/mcp`);

    // 2. The user: follows the URL, signs in on the login page, sees the consent page, presses Allow.
    const user = await registerUser(server.url);
    const browser = new Browser(server.url);
    const started = await browser.follow(authorization.href);
    const consent = await interactionPage(await signInThere(browser, started, user));
    expect(consent.html).to.include('<strong class="client-name">Journey host</strong>');
    expect(listedScopes(consent.html)).to.deep.equal(['Read your notes notes:read']);
    const code = codeAtHost(await browser.submit(consent.html, '/consent', {}), redirectUri);

    // 3. The host finishes: the SDK exchanges the code with the stored verifier.
    await new StreamableHTTPClientTransport(mcpUrl, { authProvider: host }).finishAuth(code);
    expect(host.saved?.access_token).to.be.a('string').and.not.be.empty;
    expect(host.saved?.refresh_token).to.be.a('string').and.not.be.empty;
    expect(host.saved?.scope).to.equal('notes:read');

    // 4. Connected: tools/list and a read.
    const reader = new Client({ name: 'journey-host', version: '1.0.0' });
    await reader.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: host }));
    try {
      const { tools } = await reader.listTools();
      expect(tools.map((t) => t.name)).to.include.members(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
      const listed = await reader.callTool({ name: 'notes_list', arguments: {} }) as ToolResult;
      expect(listed.isError).to.not.equal(true);
      expect(noteTexts(listed)).to.deep.equal([]);

      // 5. A write needs notes:write: the server answers 403 insufficient_scope, and the SDK surfaces an error.
      const redirectsBefore = host.authorizationUrls.length;
      let writeRefused: unknown;
      await reader.callTool({ name: 'notes_add', arguments: { text: 'not yet' } }).catch((err: unknown) => { writeRefused = err; });
      expect(writeRefused, 'notes_add with a notes:read token').to.be.instanceOf(Error);
      expect(String((writeRefused as Error).message)).to.match(/403/);
      // The SDK's upscoping path goes through auth(), which refreshes (a refresh cannot add a scope) rather than
      // asking the user, so no new authorization was started.
      expect(host.authorizationUrls).to.have.length(redirectsBefore);
    } finally {
      await reader.close();
    }

    // What the SDK saw, read with the same token: 403, insufficient_scope, and the scopes to step up to.
    const raw = await mcpPost(server.url, host.saved!.access_token, toolCall('notes_add', { text: 'not yet' }));
    expect(raw.status).to.equal(403);
    const challenge = challengeParams(raw.headers.get('www-authenticate'));
    expect(challenge.error).to.equal('insufficient_scope');
    expect(challenge.scope?.split(' ')).to.include.members(['notes:read', 'notes:write']);
    expect(challenge.resource_metadata).to.equal(`${server.url}/.well-known/oauth-protected-resource/mcp`);

    // 6. Step-up: a fresh transport whose provider asks for the wider scope, reusing the same registration.
    const wider = new JourneyHost(redirectUri, 'notes:read notes:write', host.info);
    const second = new Client({ name: 'journey-host', version: '1.0.0' });
    refused = undefined;
    await second.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: wider })).catch((err: unknown) => { refused = err; });
    expect(refused).to.be.instanceOf(UnauthorizedError);
    expect(wider.savedClientInformation, 'no new registration').to.have.length(0);
    const stepUp = wider.lastAuthorizationUrl;
    expect(stepUp.searchParams.get('client_id')).to.equal(clientId);
    expect(stepUp.searchParams.get('scope')?.split(' ')).to.have.members(['notes:read', 'notes:write']);
    expect(stepUp.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(stepUp.searchParams.get('resource')).to.equal(`${server.url}/mcp`);

    // The user is still signed in: only the consent page, and it asks only for what is new.
    const more = await interactionPage(await browser.follow(stepUp.href));
    expect(more.html).to.include('<strong class="client-name">Journey host</strong>');
    expect(listedScopes(more.html)).to.deep.equal(['Add and delete your notes notes:write']);
    const moreCode = codeAtHost(await browser.submit(more.html, '/consent', {}), redirectUri);
    await new StreamableHTTPClientTransport(mcpUrl, { authProvider: wider }).finishAuth(moreCode);
    expect(wider.saved?.scope?.split(' ')).to.have.members(['notes:read', 'notes:write']);

    const writer = new Client({ name: 'journey-host', version: '1.0.0' });
    await writer.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: wider }));
    try {
      const added = await writer.callTool({ name: 'notes_add', arguments: { text: 'from the journey host' } }) as ToolResult;
      expect(added.isError).to.not.equal(true);
      const listed = await writer.callTool({ name: 'notes_list', arguments: {} }) as ToolResult;
      expect(noteTexts(listed)).to.deep.equal(['from the journey host']);
      const me = await writer.callTool({ name: 'whoami', arguments: {} }) as ToolResult;
      expect(me.structuredContent).to.include({ id: user.userId, client_id: clientId });
    } finally {
      await writer.close();
    }

    // 7. Refresh without a new login: the stored access token no longer works; the SDK refreshes by itself.
    const before = wider.saved!;
    wider.saved = { ...before, access_token: 'expired-or-revoked-access-token' };
    const savesBefore = wider.savedTokens.length;
    const redirectsBefore = wider.authorizationUrls.length;
    const later = new Client({ name: 'journey-host', version: '1.0.0' });
    await later.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: wider }));
    try {
      expect(wider.savedTokens.length, 'saveTokens after the refresh').to.equal(savesBefore + 1);
      const refreshed = wider.savedTokens.at(-1)!;
      expect(refreshed.access_token).to.be.a('string').and.not.equal(before.access_token);
      expect(refreshed.access_token).to.not.equal('expired-or-revoked-access-token');
      expect(refreshed.scope?.split(' ')).to.have.members(['notes:read', 'notes:write']);
      const listed = await later.callTool({ name: 'notes_list', arguments: {} }) as ToolResult;
      expect(noteTexts(listed)).to.deep.equal(['from the journey host']);
      const added = await later.callTool({ name: 'notes_add', arguments: { text: 'after the refresh' } }) as ToolResult;
      expect(added.isError).to.not.equal(true);
      expect(wider.authorizationUrls, 'no new authorization').to.have.length(redirectsBefore);
    } finally {
      await later.close();
    }
  });

  it('openid-client v6, strict: discovery, DCR, PKCE + state + resource, consent, code grant, refresh; audience-bound', async () => {
    const issuer = new URL(server.url);
    const redirectUri = `http://127.0.0.1:${await freePort()}/cb`;
    const resource = `${server.url}/mcp`;

    // Discovery, as the library does it (strict issuer check), and dynamic registration of a public client.
    const discovered = await client.discovery(issuer, 'nobody-yet', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    expect(discovered.serverMetadata().issuer).to.equal(server.url);
    expect(discovered.serverMetadata().registration_endpoint, 'registration_endpoint in the AS metadata').to.be.a('string');
    const config = await client.dynamicClientRegistration(issuer, {
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'Journey host (openid-client)',
    }, client.None(), { execute: [client.allowInsecureRequests] });
    const clientId = config.clientMetadata().client_id;
    expect(clientId).to.be.a('string').and.not.be.empty;
    expect(config.clientMetadata().client_secret).to.equal(undefined);
    expect(config.serverMetadata().supportsPKCE('S256')).to.equal(true);

    /** A fresh authorization request for `scope` on the MCP resource, with PKCE S256 and state. */
    const authorizationFor = async (scope: string) => {
      const verifier = client.randomPKCECodeVerifier();
      const expected = client.randomState();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: expected,
        resource,
      });
      return { verifier, state: expected, url };
    };
    const { verifier: codeVerifier, state, url: authorizationUrl } = await authorizationFor('notes:read');

    // The user signs in on the login page and allows on the consent page.
    const user = await registerUser(server.url);
    const browser = new Browser(server.url);
    const consent = await interactionPage(await signInThere(browser, await browser.follow(authorizationUrl.href), user));
    expect(consent.html).to.include('<strong class="client-name">Journey host (openid-client)</strong>');
    expect(listedScopes(consent.html)).to.deep.equal(['Read your notes notes:read']);
    const allowed = await browser.submit(consent.html, '/consent', {});
    codeAtHost(allowed, redirectUri);
    const callback = new URL(allowed.res.headers.get('location')!, allowed.url);
    expect(callback.searchParams.get('iss')).to.equal(server.url);

    // The library checks state and iss, sends the verifier; no openid scope, so no ID token.
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    expect(tokens.token_type.toLowerCase()).to.equal('bearer');
    expect(tokens.access_token).to.be.a('string').and.not.be.empty;
    expect(tokens.refresh_token).to.be.a('string').and.not.be.empty;
    expect(tokens.id_token).to.equal(undefined);
    expect(tokens.scope).to.equal('notes:read');

    const whoami = async (token: string) => {
      const res = await mcpPost(server.url, token, toolCall('whoami'));
      const text = await res.text();
      expect(res.status, text).to.equal(200);
      const result = JSON.parse(text).result as ToolResult;
      expect(result.isError, text).to.not.equal(true);
      return result.structuredContent;
    };
    expect(await whoami(tokens.access_token)).to.include({ id: user.userId, client_id: clientId });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).to.be.a('string').and.not.equal(tokens.access_token);
    expect(refreshed.scope).to.equal('notes:read');
    expect(await whoami(refreshed.access_token)).to.include({ id: user.userId, client_id: clientId });

    // The token is for /mcp only: the userinfo endpoint refuses it. oidc-provider checks the openid scope before
    // the audience, and a token for a resource carries that resource's scopes only, so the refusal reads as 403
    // insufficient_scope (scope="openid").
    const userinfo = (token: string) => fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${token}` } });
    const expectRefusedAtUserinfo = async (token: string) => {
      const res = await userinfo(token);
      expect(res.status, await res.clone().text()).to.equal(403);
      expect(challengeParams(res.headers.get('www-authenticate'))).to.include({ error: 'insufficient_scope', scope: 'openid' });
    };
    for (const token of [tokens.access_token, refreshed.access_token]) await expectRefusedAtUserinfo(token);
    let failure: unknown;
    await client.fetchUserInfo(config, refreshed.access_token, client.skipSubjectCheck).catch((err: unknown) => { failure = err; });
    expect(failure, 'fetchUserInfo refused').to.be.instanceOf(Error);

    // Even with openid granted, the access token issued for resource=/mcp is the resource's: it still works at
    // /mcp and is still refused at userinfo (the ID token is what the client gets for the openid part).
    const { verifier: verifier2, state: state2, url: withOpenid } = await authorizationFor('openid notes:read');
    const asked = await interactionPage(await browser.follow(withOpenid.href));
    expect(listedScopes(asked.html)).to.deep.equal(['Sign you in with your account openid']);
    const allowed2 = await browser.submit(asked.html, '/consent', {});
    codeAtHost(allowed2, redirectUri);
    const bound = await client.authorizationCodeGrant(config, new URL(allowed2.res.headers.get('location')!, allowed2.url), {
      pkceCodeVerifier: verifier2, expectedState: state2,
    });
    expect(bound.claims()?.sub).to.equal(user.userId);
    expect(await whoami(bound.access_token)).to.include({ id: user.userId, client_id: clientId });
    expect(bound.scope?.split(' ')).to.include('notes:read');
    await expectRefusedAtUserinfo(bound.access_token);
  });
});
