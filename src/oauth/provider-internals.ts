import Provider, { type Adapter, type Client, type errors, type KoaContextWithOIDC, type Session } from 'oidc-provider';

/*
 * Everything this server uses of oidc-provider beyond its documented configuration and events, in one place. Each
 * piece is an undeclared or private part of the provider, so package.json pins its exact version, and
 * test/provider-internals.test.ts checks each piece against the installed provider: an upgrade that moves one fails
 * that test instead of silently switching a limit or a redirect rule off. Read the provider's source for the pinned
 * version before raising the pin.
 */

/** The request the provider is serving (lib/provider.js: `static get ctx()`, an AsyncLocalStorage the types omit). */
export const currentRequest = (): KoaContextWithOIDC | undefined =>
  (Provider as unknown as { readonly ctx?: KoaContextWithOIDC }).ctx;

type FindClient = (id: string) => Promise<Client | undefined>;

/**
 * Wraps Client.find, which the provider calls to look up the client of every request, right after reading the body
 * and before authenticating the client (lib/shared/client_auth.js).
 */
export function wrapClientLookup(provider: Provider, wrap: (find: FindClient) => FindClient): void {
  const { Client } = provider;
  Client.find = wrap(Client.find.bind(Client));
}

/**
 * Wraps the Client model's adapter upsert, through which every client the registration endpoint accepts is stored
 * (lib/models/client.js: `static get adapter()`, one instance made on first use, undeclared in the types).
 */
export function wrapClientStorage(provider: Provider, wrap: (upsert: Adapter['upsert']) => Adapter['upsert']): void {
  const adapter = (provider.Client as unknown as { readonly adapter: Adapter }).adapter;
  adapter.upsert = wrap(adapter.upsert.bind(adapter));
}

/** What a client is asked about a URI, and the provider's own answer. */
export type UriCheck = (client: Client, uri: string, registered: boolean) => boolean;

/**
 * Replaces Client#redirectUriAllowed, the method every redirect_uri check goes through (authorization, PAR, error
 * redirects). The provider's "Redirect URI wildcards" recipe overrides it; the method is not in its API reference.
 */
export function overrideRedirectUriCheck(provider: Provider, check: UriCheck): void {
  overrideUriCheck(provider, 'redirectUriAllowed', check);
}

/** Replaces Client#postLogoutRedirectUriAllowed, which end_session asks about post_logout_redirect_uri. */
export function overridePostLogoutRedirectUriCheck(provider: Provider, check: UriCheck): void {
  overrideUriCheck(provider, 'postLogoutRedirectUriAllowed', check);
}

type UriMethod = 'redirectUriAllowed' | 'postLogoutRedirectUriAllowed';

function overrideUriCheck(provider: Provider, method: UriMethod, check: UriCheck): void {
  const prototype = provider.Client.prototype as unknown as Record<UriMethod, (this: Client, uri: string) => boolean>;
  const own = prototype[method];
  prototype[method] = function allowed(this: Client, uri: string) {
    return check(this, uri, own.call(this, uri));
  };
}

/**
 * Has the provider not save the session it loaded for this request, whatever the request changed in it
 * (lib/shared/session.js saves a session that is `touched`, a private flag its proxy sets on every change).
 */
export function leaveSessionUnsaved(session: Session): void {
  (session as unknown as { touched: boolean }).touched = false;
}

/**
 * Has the provider answer an authorization error with its error page rather than a redirect to the client
 * (lib/shared/authorization_error_handler.js reads `allow_redirect` after emitting authorization.error).
 */
export function withholdRedirect(err: errors.OIDCProviderError): void {
  err.allow_redirect = false;
}
