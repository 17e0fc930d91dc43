import { expect } from 'chai';
import * as client from 'openid-client';
import {
  auth, Client, StreamableHTTPClientTransport, UnauthorizedError,
  type OAuthClientMetadata, type OAuthClientProvider, type OAuthDiscoveryState, type StoredOAuthClientInformation, type StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import { Browser, decodeEntities } from './helpers/browser.js';
import { mcpPost, noteTexts, toolCall, type ToolResult } from './helpers/mcp.js';
import { freePort } from './helpers/redis.js';
import { registerUser } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { interactionPage, signInThere } from './helpers/third-party.js';

/**
 * A third-party MCP host's whole journey, end to end, with real client libraries on the host's side: the MCP SDK's
 * own client, v2 (401 → discovery → DCR → PKCE authorization → consent → code → tokens → tools, 403 insufficient_scope
 * → the SDK's own step-up, refresh without a new login), once in each protocol era, and openid-client v6 as a
 * strict, independent OAuth client of the same flow.
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
  info: StoredOAuthClientInformation | undefined;
  saved: StoredOAuthTokens | undefined;
  verifier = '';
  discovery: OAuthDiscoveryState | undefined;
  authorizationUrls: URL[] = [];
  savedTokens: StoredOAuthTokens[] = [];
  savedClientInformation: StoredOAuthClientInformation[] = [];

  constructor(readonly redirectUri: string, readonly scope: string) {}

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

  saveClientInformation(info: StoredOAuthClientInformation) {
    this.savedClientInformation.push(info);
    this.info = info;
  }

  tokens() {
    return this.saved;
  }

  saveTokens(tokens: StoredOAuthTokens) {
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

  // Kept with the verifier, so the SDK can check that a code is redeemed at the AS that issued it (SEP-2352).
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }

  discoveryState() {
    return this.discovery;
  }
}

/** Where the user's browser is sent back to the host: the Location of the last redirect, on the host's origin. */
function callbackAtHost(step: { res: Response; url: URL }, redirectUri: string): URL {
  expect(step.res.status, 'a redirect back to the host').to.be.within(300, 399);
  const location = new URL(step.res.headers.get('location')!, step.url);
  expect(`${location.origin}${location.pathname}`).to.equal(redirectUri);
  expect(location.searchParams.has('error'), location.href).to.equal(false);
  expect(location.searchParams.get('code'), `a code in ${location.href}`).to.be.a('string').and.not.be.empty;
  return location;
}

/** How each leg of the SDK's journey asks for its protocol era, and what it must end up speaking. */
const ERAS = [
  { title: 'legacy negotiation, the 2025-11-25 initialize handshake', mode: 'legacy', era: 'legacy', version: '2025-11-25' },
  { title: "versionNegotiation 'auto', 2026-07-28 (server/discover, no initialize)", mode: 'auto', era: 'modern', version: '2026-07-28' },
] as const;

describe('an MCP host, from nothing to tools, with real client libraries', () => {
  const server = useTestServer();

  for (const leg of ERAS) {
    it(`the SDK's v2 client, ${leg.title}: 401 → discovery → DCR → PKCE + consent → tools; 403 insufficient_scope → step-up; refresh by itself`, async () => {
      const mcpUrl = new URL(`${server.url}/mcp`);
      const redirectUri = `http://127.0.0.1:${await freePort()}/cb`;
      const host = new JourneyHost(redirectUri, 'notes:read');

      // Every JSON-RPC request the host POSTs to /mcp, with the protocol version header it went with.
      const sent: { method: string; version: string | null }[] = [];
      const recording = async (url: string | URL, init?: RequestInit) => {
        if (String(url) === mcpUrl.href && init?.method === 'POST') {
          const message = JSON.parse(String(init.body)) as { method?: string; id?: unknown };
          if (message.method && message.id !== undefined) sent.push({ method: message.method, version: new Headers(init.headers).get('mcp-protocol-version') });
        }
        return fetch(url, init);
      };
      const transport = (provider: OAuthClientProvider) => new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: recording });
      const newClient = () => new Client({ name: 'journey-host', version: '1.0.0' }, { versionNegotiation: { mode: leg.mode } });
      /** A connected client, which must speak this leg's era: with 'auto' the SDK falls back to 2025 silently. */
      const connect = async (provider: OAuthClientProvider) => {
        const client = newClient();
        await client.connect(transport(provider));
        try {
          expect(client.getProtocolEra(), 'the protocol era negotiated').to.equal(leg.era);
          expect(client.getNegotiatedProtocolVersion(), 'the protocol version negotiated').to.equal(leg.version);
        } catch (err) {
          await client.close();
          throw err;
        }
        return client;
      };

      // 1. The first connect meets the 401; the SDK finds the PRM and the AS metadata, registers, and sends the user off.
      let refused: unknown;
      await newClient().connect(transport(host)).catch((err: unknown) => { refused = err; });
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
      // MCP scopes; so the SDK's automatic flow asks for everything. The v2 SDK adds offline_access (SEP-2207), as
      // the AS metadata lists it and the host registered for refresh_token, and with it prompt=consent.
      expect(authorization.searchParams.get('scope')).to.equal('notes:read notes:write offline_access');
      expect(authorization.searchParams.get('prompt')).to.equal('consent');

      // A least-privilege host asks for notes:read only, through the SDK's auth() helper: it reuses the
      // registration (no second DCR) and makes a new PKCE authorization request.
      expect(await auth(host, { serverUrl: mcpUrl, scope: 'notes:read' })).to.equal('REDIRECT');
      expect(host.savedClientInformation, 'no second registration').to.have.length(1);
      expect(host.authorizationUrls).to.have.length(2);
      authorization = host.lastAuthorizationUrl;
      expect(authorization.searchParams.get('scope')).to.equal('notes:read offline_access');
      expect(authorization.searchParams.get('code_challenge_method')).to.equal('S256');
      expect(authorization.searchParams.get('resource')).to.equal(`${server.url}/mcp`);

      // 2. The user: follows the URL, signs in on the login page, sees the consent page, presses Allow.
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      const started = await browser.follow(authorization.href);
      const consent = await interactionPage(await signInThere(browser, started, user));
      expect(consent.html).to.include('<strong class="client-name">Journey host</strong>');
      expect(listedScopes(consent.html)).to.deep.equal(['Stay connected when you are not using it offline_access', 'Read your notes notes:read']);
      const callback = callbackAtHost(await browser.submit(consent.html, '/consent', {}), redirectUri);

      // 3. The host finishes: the SDK checks the callback's iss (RFC 9207) and exchanges the code with the stored verifier.
      expect(callback.searchParams.get('iss')).to.equal(server.url);
      await transport(host).finishAuth(callback.searchParams);
      expect(host.saved?.access_token).to.be.a('string').and.not.be.empty;
      expect(host.saved?.refresh_token).to.be.a('string').and.not.be.empty;
      expect(host.saved?.scope).to.equal('notes:read');

      // 4. Connected: tools/list and a read.
      const reader = await connect(host);
      try {
        const { tools } = await reader.listTools();
        expect(tools.map((t) => t.name)).to.include.members(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
        const listed = await reader.callTool({ name: 'notes_list', arguments: {} }) as ToolResult;
        expect(listed.isError).to.not.equal(true);
        expect(noteTexts(listed)).to.deep.equal([]);

        // 5. A write needs notes:write: the server answers 403 insufficient_scope, and the v2 SDK steps up by itself
        // (SEP-2350): a refresh cannot widen the scope, so it starts a new authorization for the union of the scopes,
        // on the same registration, and the call fails with UnauthorizedError until the user has consented.
        let writeRefused: unknown;
        await reader.callTool({ name: 'notes_add', arguments: { text: 'not yet' } }).catch((err: unknown) => { writeRefused = err; });
        expect(writeRefused, 'notes_add with a notes:read token').to.be.instanceOf(UnauthorizedError);
        expect(host.authorizationUrls, 'a step-up authorization').to.have.length(3);
      } finally {
        await reader.close();
      }
      expect(host.savedClientInformation, 'no new registration').to.have.length(1);
      const stepUp = host.lastAuthorizationUrl;
      expect(stepUp.searchParams.get('client_id')).to.equal(clientId);
      expect(stepUp.searchParams.get('scope')?.split(' ')).to.have.members(['notes:read', 'notes:write', 'offline_access']);
      expect(stepUp.searchParams.get('code_challenge_method')).to.equal('S256');
      expect(stepUp.searchParams.get('resource')).to.equal(`${server.url}/mcp`);

      // What the SDK saw, read with the same token: 403, insufficient_scope, and the scopes to step up to.
      const raw = await mcpPost(server.url, host.saved!.access_token, toolCall('notes_add', { text: 'not yet' }));
      expect(raw.status).to.equal(403);
      const challenge = challengeParams(raw.headers.get('www-authenticate'));
      expect(challenge.error).to.equal('insufficient_scope');
      expect(challenge.scope?.split(' ')).to.include.members(['notes:read', 'notes:write']);
      expect(challenge.resource_metadata).to.equal(`${server.url}/.well-known/oauth-protected-resource/mcp`);

      // 6. The user is still signed in: only the consent page, and it asks only for what is new.
      const more = await interactionPage(await browser.follow(stepUp.href));
      expect(more.html).to.include('<strong class="client-name">Journey host</strong>');
      expect(listedScopes(more.html)).to.deep.equal(['Add and delete your notes notes:write']);
      await transport(host).finishAuth(callbackAtHost(await browser.submit(more.html, '/consent', {}), redirectUri).searchParams);
      expect(host.saved?.scope?.split(' ')).to.have.members(['notes:read', 'notes:write']);

      const writer = await connect(host);
      try {
        const added = await writer.callTool({ name: 'notes_add', arguments: { text: 'from the journey host' } }) as ToolResult;
        expect(added.isError).to.not.equal(true);
        const listed = await writer.callTool({ name: 'notes_list', arguments: {} }) as ToolResult;
        expect(noteTexts(listed)).to.deep.equal(['from the journey host']);
        const me = await writer.callTool({ name: 'whoami', arguments: {} }) as ToolResult;
        // The app by the name it registered, beside the id that identifies it.
        expect(me.structuredContent).to.include({ id: user.userId, client_id: clientId, client_name: 'Journey host' });
        expect(me.content[0]?.text).to.include(`through the app "Journey host" (${clientId})`);
      } finally {
        await writer.close();
      }

      // 7. Refresh without a new login: the stored access token no longer works; the SDK refreshes by itself.
      const before = host.saved!;
      host.saved = { ...before, access_token: 'expired-or-revoked-access-token' };
      const savesBefore = host.savedTokens.length;
      const redirectsBefore = host.authorizationUrls.length;
      const later = await connect(host);
      try {
        expect(host.savedTokens.length, 'saveTokens after the refresh').to.equal(savesBefore + 1);
        const refreshed = host.savedTokens.at(-1)!;
        expect(refreshed.access_token).to.be.a('string').and.not.equal(before.access_token);
        expect(refreshed.access_token).to.not.equal('expired-or-revoked-access-token');
        expect(refreshed.scope?.split(' ')).to.have.members(['notes:read', 'notes:write']);
        const listed = await later.callTool({ name: 'notes_list', arguments: {} }) as ToolResult;
        expect(noteTexts(listed)).to.deep.equal(['from the journey host']);
        const added = await later.callTool({ name: 'notes_add', arguments: { text: 'after the refresh' } }) as ToolResult;
        expect(added.isError).to.not.equal(true);
        expect(host.authorizationUrls, 'no new authorization').to.have.length(redirectsBefore);
      } finally {
        await later.close();
      }

      // The wire agrees with the client: in the 2025 era an initialize handshake and then that version's header on
      // every request; in 2026-07-28 no initialize, and every tool call sent with its header.
      const methods = new Set(sent.map((s) => s.method));
      expect(methods.has('initialize'), 'an initialize handshake').to.equal(leg.era === 'legacy');
      expect(methods.has('server/discover'), 'a server/discover probe').to.equal(leg.mode === 'auto');
      const toolCallVersions = new Set(sent.filter((s) => s.method === 'tools/call').map((s) => s.version));
      expect([...toolCallVersions], 'the MCP-Protocol-Version of the tool calls').to.deep.equal([leg.version]);
    });
  }

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
    const callback = callbackAtHost(allowed, redirectUri);
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
    const bound = await client.authorizationCodeGrant(config, callbackAtHost(allowed2, redirectUri), {
      pkceCodeVerifier: verifier2, expectedState: state2,
    });
    expect(bound.claims()?.sub).to.equal(user.userId);
    expect(await whoami(bound.access_token)).to.include({ id: user.userId, client_id: clientId });
    expect(bound.scope?.split(' ')).to.include('notes:read');
    await expectRefusedAtUserinfo(bound.access_token);
  });
});
