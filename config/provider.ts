import { errors, interactionPolicy, type AdapterFactory, type Configuration, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';
import type { StaticClients } from './clients.js';
import type { Keys } from './keys.js';
import { isMcpResource, MCP_RESOURCE_SERVER, mcpResource } from './resource-server.js';
import { isMcpScope, OIDC_SCOPES, processedScope, SCOPE_CLAIMS } from './scopes.js';

/** Lifetimes in seconds. The seed promises `expires_in: 3600`. */
export const TTL = {
  AccessToken: 60 * 60,
  AuthorizationCode: 60,
  DeviceCode: 10 * 60,
  IdToken: 60 * 60,
  Interaction: 60 * 60,
  Session: 14 * 24 * 60 * 60,
  Grant: 14 * 24 * 60 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
} as const;

/**
 * Seconds a session without a signed-in account is kept. Any browser that opens the device-code or logout page
 * gets such a session (it holds the form's CSRF secret), so anyone can create them by the million: kept for
 * minutes, long enough to submit the form (a device code lives as long), they cannot pile up.
 */
export const ANONYMOUS_SESSION_TTL = 10 * 60;

/**
 * Seconds an interaction started by nobody signed in is kept (the request's parameters, waiting on the sign-in page):
 * anyone can start them by the thousand. Long enough for a person to create an account on that page (a name, a
 * password, perhaps a password manager's prompt), sign in and get one thing wrong on the way; past it, the page
 * says the sign-in expired and the application starts a new one. The provider carries a sign-in on in an interaction
 * of the signed-in user (consent), kept TTL.Interaction.
 */
export const ANONYMOUS_INTERACTION_TTL = 15 * 60;

/** Every endpoint the provider serves, under /oauth/ beside the seed's own routes. */
export const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  userinfo: '/oauth/userinfo',
  jwks: '/oauth/jwks',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
  end_session: '/oauth/logout',
  pushed_authorization_request: '/oauth/par',
  // Dynamic Client Registration for MCP hosts; /oauth/register is the users' sign-up.
  registration: '/oauth/clients',
  // The device authorization grant (RFC 8628), for the command-line client on machines without a browser.
  device_authorization: '/oauth/device/auth',
  code_verification: '/oauth/device',
} as const;

/** The mechanics the configuration plugs in: they live in src/, this file only says where they go. */
export interface ProviderHooks {
  findAccount: NonNullable<Configuration['findAccount']>;
  loadExistingGrant: NonNullable<Configuration['loadExistingGrant']>;
  renderError: NonNullable<Configuration['renderError']>;
  logoutSource: (ctx: KoaContextWithOIDC, form: string) => Promise<void>;
  postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => Promise<void>;
  userCodeInputSource: (ctx: KoaContextWithOIDC, form: string, out?: ErrorOut, err?: Error) => Promise<void>;
  userCodeConfirmSource: (ctx: KoaContextWithOIDC, form: string, client: unknown, deviceInfo: unknown, userCode: string) => Promise<void>;
  deviceSuccessSource: (ctx: KoaContextWithOIDC) => Promise<void>;
  /** Which metadata fields self-registered clients (DCR and Client ID Metadata Documents) may set, and how. */
  clientMetadataPolicy: {
    properties: string[];
    validator: (ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: Record<string, unknown>) => void;
  };
  /** Refuses an authorization request whose parameters are longer than config/parameter-limits.ts allows. */
  parameterSizes: (ctx: KoaContextWithOIDC) => void;
  /** The scope an authorization request was sent with, before the provider's checks rewrote it. */
  sentScope: (ctx: KoaContextWithOIDC) => string[];
  /**
   * Outbound HTTP (Client ID Metadata Documents, clients' jwks_uri and sector_identifier_uri), guarded against SSRF
   * by the hook itself: the provider's own guard needs undici's global dispatcher, which Bun does not have.
   */
  fetch: typeof fetch;
  /** Whether the provider may fetch the Client ID Metadata Document at this client_id URL; throws to refuse with reasons. */
  allowMetadataDocumentFetch: (ctx: KoaContextWithOIDC | undefined, clientId: string) => Promise<boolean>;
}

export interface ProviderParts {
  issuer: string;
  clients: StaticClients;
  keys: Keys;
  adapter: AdapterFactory;
  hooks: ProviderHooks;
  /**
   * Dynamic Client Registration: off, the endpoint is gone and discovery no longer names a registration_endpoint, which
   * is what MCP hosts look for before registering; clients registered before keep working.
   */
  clientRegistrationOpen: boolean;
}

const { Check } = interactionPolicy;

/**
 * The provider's own prompts, and one more reason to sign in: a browser session whose account can no longer act (an
 * operator disabled or deleted it, so findAccount finds nothing). The provider would otherwise go on to its consent
 * checks without an account, and fail there.
 */
function prompts(): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(new Check('account_unavailable', 'the signed-in account is disabled or no longer exists', 'login_required',
    (ctx) => (ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT)));
  return policy;
}

export function providerConfiguration({ issuer, clients, keys, adapter, hooks, clientRegistrationOpen }: ProviderParts): Configuration {
  return {
    adapter,
    clients: clients.metadata,
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      keys: keys.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    scopes: Object.keys(OIDC_SCOPES),
    // OAuth 2.1: the authorization code flow only (no implicit, no hybrid).
    responseTypes: ['code'],
    claims: SCOPE_CLAIMS,
    routes: ROUTES,
    ttl: {
      ...TTL,
      // Asked at every save: the provider saves the session again once someone signs in, for the full lifetime.
      Session: (_ctx, session) => (session.accountId ? TTL.Session : ANONYMOUS_SESSION_TTL),
      // Asked when an interaction starts; the provider saves it again (a submitted sign-in) for the time it has left.
      Interaction: (_ctx, interaction) => (interaction.session?.accountId ? TTL.Interaction : ANONYMOUS_INTERACTION_TTL),
    },
    pkce: {
      // Public clients must use PKCE (S256 only, the library default); confidential client1 may omit it, as the seed does.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    // The provider runs these validators in this order, each whether or not its parameter is present, once its own
    // checks of an authorization, pushed authorization or device authorization request passed and before it stores
    // anything of it.
    extraParams: {
      // Every request here has a client_id: the sizes of all the parameters are checked first, before scope's rewrite.
      client_id: hooks.parameterSizes,
      // Runs whether or not the request has a scope, after the provider's scope and resource checks: see processedScope.
      async scope(ctx) {
        const params = ctx.oidc.params!;
        const client = ctx.oidc.client!;
        const scopes = String(params.scope ?? '').split(' ');
        // OpenID Connect has the provider drop offline_access unless prompt=consent, "unless other conditions for
        // processing the request permitting offline access are in place": here they are, since a third-party client
        // is asked for consent to every scope not yet granted (offline_access included, in plain words) and a
        // first-party one is trusted. Hosts that were told offline_access exists then refresh with it (SEP-2207).
        if (hooks.sentScope(ctx).includes('offline_access') && client.grantTypeAllowed('refresh_token')
          && (!client.scope || client.scope.split(' ').includes('offline_access'))) scopes.push('offline_access');
        const resources = [params.resource].flat().filter((r): r is string => typeof r === 'string');
        params.scope = processedScope(scopes, resources.some((r) => isMcpResource(r, issuer)));
      },
    },
    // The seed expects a refresh_token without offline_access or prompt=consent; registered hosts get one too.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Only a first-party client's OpenID tokens end with the browser session. Tokens for the MCP resource
    // belong to the host, and a third-party app's rest on a consent remembered across browsers: signing out
    // in one browser must not cut them off everywhere.
    expiresWithSession: async (ctx, code) => clients.firstParty.has(ctx.oidc.client!.clientId)
      && !(code as { resource?: unknown }).resource && !code.scopes.has('offline_access'),
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: hooks.clientMetadataPolicy,
    // client_secret_jwt would make the shared secret a signing key as well; no host uses it.
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    // Browser-based hosts call the token, revocation and userinfo endpoints cross-origin; tokens, not cookies.
    clientBasedCORS: () => true,
    fetch: hooks.fetch,
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        // A client may revoke only the tokens issued to it.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        // Only resource servers may introspect, not any confidential client.
        allowedPolicy: async (_ctx, client) => clients.resourceServers.has(client.clientId),
      },
      userinfo: { enabled: true },
      registration: { enabled: clientRegistrationOpen },
      deviceFlow: {
        enabled: true,
        // Letters that cannot be mistaken for each other or spell words; typed on another device.
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: hooks.userCodeInputSource,
        userCodeConfirmSource: hooks.userCodeConfirmSource,
        successSource: hooks.deviceSuccessSource,
      },
      clientIdMetadataDocument: { enabled: true, ack: 'draft-02', allowFetch: hooks.allowMetadataDocumentFetch },
      resourceIndicators: {
        enabled: true,
        // A code carries its resource to the token endpoint; hosts need not repeat it.
        useGrantedResource: async () => true,
        // RFC 8707 §2 lets the server process a request without `resource` with a default one. There is one resource
        // here: a request that asks for its scopes without naming it (hosts older than RFC 8707 support) means it,
        // and its token must carry the audience /mcp checks. Any other request stays resource-less (the seed's
        // tokens are for userinfo, which refuses tokens with an audience).
        async defaultResource(ctx, _client, oneOf) {
          if (oneOf) return oneOf;
          return String(ctx.oidc.params?.scope ?? '').split(' ').some(isMcpScope) ? mcpResource(issuer) : undefined;
        },
        async getResourceServerInfo(_ctx, indicator) {
          if (!isMcpResource(indicator, issuer)) throw new errors.InvalidTarget();
          return {
            audience: mcpResource(issuer),
            scope: MCP_RESOURCE_SERVER.scopes.join(' '),
            accessTokenFormat: MCP_RESOURCE_SERVER.accessTokenFormat,
            accessTokenTTL: MCP_RESOURCE_SERVER.accessTokenTTL,
          };
        },
      },
      pushedAuthorizationRequests: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: hooks.logoutSource,
        postLogoutSuccessSource: hooks.postLogoutSuccessSource,
      },
    },
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: prompts() },
    findAccount: hooks.findAccount,
    loadExistingGrant: hooks.loadExistingGrant,
    renderError: hooks.renderError,
  };
}
