import Koa from 'koa';
import mount from 'koa-mount';
import Provider from 'oidc-provider';
import type { Stores } from '../adapters/stores.js';
import { staticClients } from '../config/clients.js';
import type { Config } from '../config/env.js';
import type { Keys } from '../config/keys.js';
import { providerConfiguration, REFRESH_REUSE_GRACE_SECONDS, ROUTE_METHODS, ROUTES } from '../config/provider.js';
import { withRefreshGrace } from '../adapters/refresh-grace.js';
import { AccountService } from './accounts/accounts.js';
import { createPasswordHasher } from './accounts/password.js';
import { assets } from './http/assets.js';
import { canonicalOrigin } from './http/canonical-origin.js';
import { cors } from './http/cors.js';
import { handleErrors } from './http/errors.js';
import { securityHeaders } from './http/security-headers.js';
import { CsrfTokens } from './interactions/csrf.js';
import { interactionRoutes } from './interactions/routes.js';
import type { Logger } from './log.js';
import { clientMetadataPolicy } from './oauth/client-policy.js';
import { findAccount } from './oauth/find-account.js';
import { loadExistingGrant } from './oauth/first-party-grant.js';
import { providerPages } from './oauth/provider-pages.js';
import { seedRoutes } from './oauth/routes.js';
import { createSignIn } from './oauth/sign-in.js';

export interface AppParts {
  config: Config;
  issuer: string;
  keys: Keys;
  log: Logger;
  stores: Stores;
  /** Outbound HTTP; tests replace it to serve Client ID Metadata Documents without a network. */
  outboundFetch?: typeof fetch;
}

export interface App {
  koa: Koa;
  provider: Provider;
}

/** The composition root: reading it top to bottom is the path every request takes. */
export function buildApp({ config, issuer, keys, log, stores, outboundFetch = fetch }: AppParts): App {
  const accounts = new AccountService(stores.accounts, createPasswordHasher());
  const clients = staticClients(config, issuer);

  const provider = new Provider(issuer, providerConfiguration({
    issuer,
    clients,
    keys,
    adapter: withRefreshGrace(stores.oidc.factory, REFRESH_REUSE_GRACE_SECONDS),
    hooks: {
      findAccount: findAccount(accounts),
      loadExistingGrant: loadExistingGrant(clients.firstParty),
      clientMetadataPolicy,
      fetch: outboundFetch,
      ...providerPages,
    },
  }));
  provider.proxy = config.trustProxy;
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'provider error'));

  const koa = new Koa({ keys: keys.cookieKeys, proxy: config.trustProxy });
  koa.use(handleErrors(log, ROUTE_METHODS));
  koa.use(canonicalOrigin(issuer));
  koa.use(securityHeaders(issuer));
  koa.use(assets());
  koa.use(cors({ paths: [ROUTES.registration], methods: ['POST'] }));

  const seed = seedRoutes(accounts, createSignIn(provider, issuer));
  koa.use(seed.routes()).use(seed.allowedMethods());

  const interactions = interactionRoutes(provider, accounts, new CsrfTokens(keys.cookieKeys[0]!), clients.firstParty);
  koa.use(interactions.routes()).use(interactions.allowedMethods());

  // The provider serves /oauth/authorize, /oauth/token, ... and discovery; unknown paths fall through.
  koa.use(mount(provider));
  return { koa, provider };
}
