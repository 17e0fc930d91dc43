import type { RequestListener } from 'node:http';
import Koa from 'koa';
import mount from 'koa-mount';
import Provider from 'oidc-provider';
import type { Stores } from '../adapters/stores.js';
import { staticClients } from '../config/clients.js';
import type { Config } from '../config/env.js';
import type { Keys } from '../config/keys.js';
import { providerConfiguration } from '../config/provider.js';
import { REFRESH_REUSE_GRACE_SECONDS } from '../config/storage-outages.js';
import { withClientIdleExpiry } from '../adapters/client-idle-expiry.js';
import { withInvalidation } from '../adapters/invalidating.js';
import { withRefreshGrace } from '../adapters/refresh-grace.js';
import { SpendLast } from '../adapters/spend-last.js';
import { AbuseLimits } from './limits/abuse-limits.js';
import { AccountService } from './accounts/accounts.js';
import { AccountLifecycle } from './accounts/lifecycle.js';
import { createPasswordHasher } from './accounts/password.js';
import { ConnectedApps } from './connected-apps/connected-apps.js';
import { connectedAppsSteps } from './connected-apps/steps.js';
import { AccountFormTokens } from './connected-apps/form-tokens.js';
import { pinCanonicalOrigin } from './http/canonical-origin.js';
import { handleErrors } from './http/errors.js';
import { indexRoutes, named, tableMiddleware, type RouteTable } from './http/route-table.js';
import { securityHeaderList, securityHeaders } from './http/security-headers.js';
import { CsrfTokens } from './interactions/csrf.js';
import { interactionSteps } from './interactions/steps.js';
import type { Logger } from './log.js';
import { opsEndpoints } from './ops/health.js';
import { Metrics } from './ops/metrics.js';
import { metricsAccess } from './ops/metrics-access.js';
import { observe, requestObserver } from './ops/observe.js';
import { requestIds } from './ops/request-id.js';
import type { BearerCheck } from './mcp/bearer.js';
import { mcpEdge } from './mcp/edge.js';
import { mcpEndpoint } from './mcp/endpoint.js';
import { protectedResourceMetadata } from './mcp/protected-resource-metadata.js';
import { mcpSteps } from './mcp/steps.js';
import { limitAnonymousRecords } from './limits/anonymous-records.js';
import { limitClientErrors } from './limits/client-errors.js';
import { limitClientRegistrations } from './limits/client-registrations.js';
import { limitDeviceCodeGuesses } from './limits/device-codes.js';
import { clientMetadataPolicy } from './oauth/client-policy.js';
import { advertiseResourceScopes } from './oauth/discovery-scopes.js';
import { holdUntrustedErrorRedirects } from './oauth/error-redirect-trust.js';
import { findAccount } from './oauth/find-account.js';
import { callbackPage } from './site/callback-page.js';
import { allowAnyLoopbackPort } from './oauth/loopback-redirect.js';
import { login } from './accounts/login-json.js';
import { tiePostLogoutRedirects } from './oauth/post-logout-redirect.js';
import { loadExistingGrant } from './oauth/existing-grant.js';
import { metadataDocumentHosts } from './oauth/metadata-document-hosts.js';
import { storageOutagePage } from './oauth/outage-page.js';
import { limitSignOutParameters, refuseOversizeParameters } from './oauth/parameter-sizes.js';
import { providerPages } from './oauth/provider-pages.js';
import { register } from './accounts/register-json.js';
import { sentScope } from './oauth/sent-scope.js';
import { createSignIn } from './oauth/sign-in.js';
import { signedInUser } from './oauth/signed-in-user.js';
import { guardedFetch } from './outbound/guarded-fetch.js';
import { routeTable } from './routes.js';
import { sitePages } from './site/pages.js';

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
  /** Every route and the steps of each (src/routes.ts). */
  routes: RouteTable;
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
  // One hasher, so that its limit on concurrent hashes holds for sign-ins and password changes together.
  const passwords = createPasswordHasher();
  const accounts = new AccountService(stores.accounts, passwords, limits, (outcome) => metrics.logins.inc({ outcome }));
  // Through adapters that publish what they revoke, as the provider's do: every instance's token cache drops it.
  const lifecycle = new AccountLifecycle({ stores, adapters: withInvalidation(stores.oidc.factory, stores.invalidations), passwords });
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
  const clientRequestPassed = limitClientErrors(provider, limits);
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

  const mcp = mcpEndpoint({
    config, issuer, provider, stores, log, bearer: mcpBearerCheck,
    onToolCall: (tool, outcome) => metrics.toolCalls.inc({ tool, outcome }),
  });
  const signIn = createSignIn(provider, issuer);
  const viewer = signedInUser(provider, accounts);
  const firstPartyNames = new Map(clients.metadata.filter((client) => clients.firstParty.has(client.client_id))
    .map((client) => [client.client_id, String(client.client_name ?? client.client_id)]));
  const table = routeTable({
    mcp: mcpSteps(mcp),
    metadata: protectedResourceMetadata(issuer),
    ops: opsEndpoints(stores, metrics, metricsAccess(config)),
    site: sitePages({
      issuer, accounts, signIn, viewer, signupOpen: config.signupOpen, clientRegistrationOpen: config.clientRegistrationOpen,
      signupTokens: new AccountFormTokens(keys.cookieKeys[0]!, issuer, '/signup'),
    }),
    seed: { register: register(accounts, config.signupOpen), login: login(accounts, signIn), callback: callbackPage },
    interaction: interactionSteps(provider, accounts, new CsrfTokens(keys.cookieKeys[0]!), clients.firstParty, stores.consents,
      config.signupOpen),
    account: connectedAppsSteps({
      viewer, accounts, lifecycle, signIn,
      apps: new ConnectedApps({ stores, lifecycle, firstParty: firstPartyNames }),
      tokens: new AccountFormTokens(keys.cookieKeys[0]!, issuer),
    }),
    provider: named('provider', mount(provider)),
    clientRequestPassed,
    clientRegistrationOpen: config.clientRegistrationOpen,
  });
  // Every request: its log line and metrics (labelled with its route in the table), errors in the protocol's own
  // format (405 for a method the table does not serve at a path), security headers; then the table.
  const index = indexRoutes(table);
  const observer = requestObserver(log, metrics, requestIds(config.trustProxy > 0), index.templateOf);
  koa.use(observe(observer));
  koa.use(handleErrors(log, index.methodsAt));
  koa.use(securityHeaders(issuer));
  for (const step of tableMiddleware(table)) koa.use(step);
  // The plainest POSTs to /mcp are answered in front of Koa, with the same checks, headers, log line and metrics.
  const handler = mcpEdge({ endpoint: mcp, issuer, securityHeaders: securityHeaderList(issuer), observer, log }, koa.callback());
  return { koa, provider, routes: table, handler, close: mcp.close };
}
