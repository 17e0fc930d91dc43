import type { RequestListener } from 'node:http';
import Koa from 'koa';
import mount from 'koa-mount';
import Provider from 'oidc-provider';
import type { Stores } from '../adapters/stores.js';
import { staticClients } from '../config/clients.js';
import type { Config } from '../config/env.js';
import type { Keys } from '../config/keys.js';
import { providerConfiguration, ROUTE_METHODS, ROUTES } from '../config/provider.js';
import { REFRESH_REUSE_GRACE_SECONDS } from '../config/storage-outages.js';
import { withClientIdleExpiry } from '../adapters/client-idle-expiry.js';
import { withInvalidation } from '../adapters/invalidating.js';
import { withRefreshGrace } from '../adapters/refresh-grace.js';
import { SpendLast } from '../adapters/spend-last.js';
import { AbuseLimits } from './accounts/abuse-limits.js';
import { AccountService } from './accounts/accounts.js';
import { createPasswordHasher } from './accounts/password.js';
import { ConnectedApps } from './connected-apps/connected-apps.js';
import { AccountFormTokens } from './connected-apps/form-tokens.js';
import { connectedAppsRoutes } from './connected-apps/routes.js';
import { assets } from './http/assets.js';
import { pinCanonicalOrigin } from './http/canonical-origin.js';
import { cors } from './http/cors.js';
import { handleErrors } from './http/errors.js';
import { securityHeaderList, securityHeaders } from './http/security-headers.js';
import { CsrfTokens } from './interactions/csrf.js';
import { interactionRoutes } from './interactions/routes.js';
import type { Logger } from './log.js';
import { opsRoutes } from './ops/health.js';
import { Metrics } from './ops/metrics.js';
import { metricsAccess } from './ops/metrics-access.js';
import { observe, requestObserver } from './ops/observe.js';
import { requestIds } from './ops/request-id.js';
import type { BearerCheck } from './mcp/bearer.js';
import { mcpEdge } from './mcp/edge.js';
import { mcpEndpoint } from './mcp/endpoint.js';
import { mcpRoutes } from './mcp/routes.js';
import { limitAnonymousRecords } from './oauth/anonymous-record-limit.js';
import { limitClientErrors } from './oauth/client-error-limit.js';
import { refuseClientRegistration } from './oauth/closed-client-registration.js';
import { limitClientRegistrations } from './oauth/client-registration-limit.js';
import { limitDeviceCodeGuesses } from './oauth/device-code-limit.js';
import { clientMetadataPolicy } from './oauth/client-policy.js';
import { advertiseResourceScopes } from './oauth/discovery-scopes.js';
import { holdUntrustedErrorRedirects } from './oauth/error-redirect-trust.js';
import { findAccount } from './oauth/find-account.js';
import { allowAnyLoopbackPort } from './oauth/loopback-redirect.js';
import { tiePostLogoutRedirects } from './oauth/post-logout-redirect.js';
import { loadExistingGrant } from './oauth/existing-grant.js';
import { metadataDocumentHosts } from './oauth/metadata-document-hosts.js';
import { noStore } from './oauth/no-store.js';
import { storageOutagePage } from './oauth/outage-page.js';
import { limitSignOutParameters, refuseOversizeParameters } from './oauth/parameter-sizes.js';
import { providerPages } from './oauth/provider-pages.js';
import { seedRoutes } from './oauth/routes.js';
import { sentScope } from './oauth/sent-scope.js';
import { createSignIn } from './oauth/sign-in.js';
import { signedInUser } from './oauth/signed-in-user.js';
import { guardedFetch } from './outbound/guarded-fetch.js';
import { siteRoutes } from './site/routes.js';

export interface AppParts {
  config: Config;
  issuer: string;
  keys: Keys;
  log: Logger;
  stores: Stores;
  /**
   * Outbound HTTP, by default the SSRF guard (src/outbound/guarded-fetch.ts); tests replace it to serve Client ID
   * Metadata Documents and key sets without a network.
   */
  outboundFetch?: typeof fetch;
  /** Replaces the /mcp bearer check; only the benchmark does, to measure what the check costs. */
  mcpBearerCheck?: BearerCheck;
  /** Stands between the app and its stores; tests make storage fail at exact points with it. */
  wrapStores?: (stores: Stores) => Stores;
}

export interface App {
  koa: Koa;
  provider: Provider;
  /** What the HTTP server runs for every request: /mcp's edge in front of the Koa app. */
  handler: RequestListener;
  /** At shutdown, once no new connection is taken: ends the streams that would otherwise hold it up. */
  close(): Promise<void>;
}

/** The composition root: reading it top to bottom is the path every request takes. */
export function buildApp({ config, issuer, keys, log, stores: given, outboundFetch, mcpBearerCheck, wrapStores }: AppParts): App {
  const stores = wrapStores ? wrapStores(given) : given;
  const metrics = new Metrics();
  const limits = new AbuseLimits(config.limits, stores.limiter, (limit) => metrics.refusals.inc({ limit }));
  const accounts = new AccountService(stores.accounts, createPasswordHasher(), limits, (outcome) => metrics.logins.inc({ outcome }));
  const clients = staticClients(config, issuer);
  const staticClientIds = new Set(clients.metadata.map((client) => client.client_id));

  const spendLast = new SpendLast();
  const provider = new Provider(issuer, providerConfiguration({
    issuer,
    clients,
    keys,
    clientRegistrationOpen: config.clientRegistrationOpen,
    adapter: spendLast.adapters(withInvalidation(
      withRefreshGrace(withClientIdleExpiry(stores.oidc.factory, config.clientIdleTtlSeconds), REFRESH_REUSE_GRACE_SECONDS),
      stores.invalidations,
    )),
    hooks: {
      findAccount: findAccount(accounts),
      loadExistingGrant: loadExistingGrant(clients.firstParty, stores.consents),
      clientMetadataPolicy: clientMetadataPolicy(staticClientIds),
      parameterSizes: refuseOversizeParameters,
      sentScope,
      fetch: outboundFetch ?? guardedFetch({ onFailure: (origin, reason) => log.warn({ origin }, `outbound fetch failed: ${reason}`) }),
      allowMetadataDocumentFetch: metadataDocumentHosts(config.cimdAllowedHosts),
      ...providerPages(config.clientRegistrationOpen),
    },
  }));
  provider.proxy = config.trustProxy > 0;
  spendLast.install(provider, storageOutagePage);
  allowAnyLoopbackPort(provider, staticClientIds);
  tiePostLogoutRedirects(provider);
  holdUntrustedErrorRedirects(provider, staticClientIds);
  advertiseResourceScopes(provider);
  const clientErrorLimit = limitClientErrors(provider, limits);
  limitClientRegistrations(provider, limits);
  limitDeviceCodeGuesses(provider, limits);
  limitAnonymousRecords(provider, limits);
  limitSignOutParameters(provider);
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'provider error'));
  provider.on('grant.success', (ctx) => metrics.tokens.inc({ grant_type: String(ctx.oidc.params?.grant_type) }));

  const koa = new Koa({ keys: keys.cookieKeys, proxy: config.trustProxy > 0, maxIpsCount: config.trustProxy });
  pinCanonicalOrigin(koa, issuer);
  // Errors after the answer has started (Koa's default prints them raw to stderr): a client that leaves a stream
  // early (an MCP host closing a 2026-07-28 subscription) is no fault; anything else goes to the log as JSON.
  koa.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') log.error({ err }, 'error after the response started');
  });
  const observer = requestObserver(log, metrics, requestIds(config.trustProxy > 0));
  koa.use(observe(observer));
  koa.use(handleErrors(log, ROUTE_METHODS));
  koa.use(securityHeaders(issuer));
  // The MCP resource server (its protected resource metadata, and /mcp behind the bearer and scope checks)
  // comes first: it is the hot path, and its exact paths collide with nothing below.
  const mcp = mcpEndpoint({
    config, issuer, provider, stores, log, bearer: mcpBearerCheck,
    onToolCall: (tool, outcome) => metrics.toolCalls.inc({ tool, outcome }),
  });
  koa.use(mcpRoutes(mcp, issuer).routes());
  koa.use(assets());
  koa.use(opsRoutes(stores, metrics, metricsAccess(config)).routes());
  // By the exact path, unlike the provider's router: CORS only grants, so another spelling of the path gets no grant
  // (browsers call the registration_endpoint that discovery advertises), and the registration limit does not
  // depend on it (src/oauth/client-registration-limit.ts).
  koa.use(cors({ paths: [ROUTES.registration], methods: ['POST'], exposeHeaders: ['Retry-After'] }));
  if (!config.clientRegistrationOpen) koa.use(refuseClientRegistration());

  const signIn = createSignIn(provider, issuer);
  const viewer = signedInUser(provider, accounts);
  const seed = seedRoutes(accounts, signIn, config.signupOpen);
  koa.use(seed.routes()).use(seed.allowedMethods());

  const site = siteRoutes({
    issuer, accounts, signIn, viewer, signupOpen: config.signupOpen, clientRegistrationOpen: config.clientRegistrationOpen,
    signupTokens: new AccountFormTokens(keys.cookieKeys[0]!, issuer, '/signup'),
  });
  koa.use(site.routes()).use(site.allowedMethods());

  const interactions = interactionRoutes(provider, accounts, new CsrfTokens(keys.cookieKeys[0]!), clients.firstParty, stores.consents,
    config.signupOpen);
  koa.use(interactions.routes()).use(interactions.allowedMethods());

  const connectedApps = connectedAppsRoutes(viewer, accounts, signIn, new ConnectedApps(provider, stores.consents),
    new AccountFormTokens(keys.cookieKeys[0]!, issuer));
  koa.use(connectedApps.routes()).use(connectedApps.allowedMethods());

  // The provider serves /oauth/authorize, /oauth/token, ... and discovery; unknown paths fall through.
  // Its revocation endpoint's answers (errors included) carry no cache header of their own.
  koa.use(noStore('revocation'));
  koa.use(clientErrorLimit);
  koa.use(mount(provider));
  // The plainest POSTs to /mcp are answered in front of Koa, with the same checks, headers, log line and metrics.
  const handler = mcpEdge({ endpoint: mcp, issuer, securityHeaders: securityHeaderList(issuer), observer, log }, koa.callback());
  return { koa, provider, handler, close: mcp.close };
}
