import type { AdapterFactory, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { StaticClients } from './clients.js';
import type { Keys } from './keys.js';
import { DEFAULT_SCOPE, OIDC_SCOPES, SCOPE_CLAIMS } from './scopes.js';

/** Lifetimes in seconds. The seed promises `expires_in: 3600`. */
export const TTL = {
  AccessToken: 60 * 60,
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  Interaction: 60 * 60,
  Session: 14 * 24 * 60 * 60,
  Grant: 14 * 24 * 60 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
} as const;

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
} as const;

/** The methods each provider endpoint answers: the provider leaves any other method as a bare 404. */
export const ROUTE_METHODS: Readonly<Record<string, readonly string[]>> = {
  [ROUTES.authorization]: ['GET', 'POST'],
  [ROUTES.token]: ['POST'],
  [ROUTES.userinfo]: ['GET', 'POST'],
  [ROUTES.jwks]: ['GET'],
  [ROUTES.revocation]: ['POST'],
  [ROUTES.introspection]: ['POST'],
  [ROUTES.end_session]: ['GET', 'POST'],
  [ROUTES.pushed_authorization_request]: ['POST'],
  '/.well-known/openid-configuration': ['GET'],
  '/.well-known/oauth-authorization-server': ['GET'],
};

/** The mechanics the configuration plugs in: they live in src/, this file only says where they go. */
export interface ProviderHooks {
  findAccount: NonNullable<Configuration['findAccount']>;
  loadExistingGrant: NonNullable<Configuration['loadExistingGrant']>;
  renderError: NonNullable<Configuration['renderError']>;
  logoutSource: (ctx: KoaContextWithOIDC, form: string) => Promise<void>;
  postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => Promise<void>;
}

export function providerConfiguration(
  clients: StaticClients,
  keys: Keys,
  adapter: AdapterFactory,
  hooks: ProviderHooks,
): Configuration {
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
    ttl: { ...TTL },
    pkce: {
      // Public clients must use PKCE (S256 only, the library default); confidential client1 may omit it, as the seed does.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    extraParams: {
      // The seed's authorize URL has no scope; without one the provider would refuse the request.
      async scope(ctx) {
        ctx.oidc.params!.scope ||= DEFAULT_SCOPE;
      },
    },
    // The seed expects a refresh_token without offline_access or prompt=consent.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
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
      pushedAuthorizationRequests: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: hooks.logoutSource,
        postLogoutSuccessSource: hooks.postLogoutSuccessSource,
      },
    },
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: hooks.findAccount,
    loadExistingGrant: hooks.loadExistingGrant,
    renderError: hooks.renderError,
  };
}
