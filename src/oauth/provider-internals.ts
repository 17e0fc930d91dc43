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

/** The models whose storage the server watches as the provider uses it. */
export type WatchedModel = 'Client' | 'Interaction' | 'Session' | 'PushedAuthorizationRequest' | 'DeviceCode';

/**
 * Replaces methods of a model's adapter, given the adapter's own methods. The provider makes one adapter per model,
 * on first use, and every later use of the model goes through it (lib/models/base_model.js and client.js:
 * `static get adapter()`); changing that instance is what reaches the provider's own reads and writes, with
 * currentRequest() to tell which request they serve.
 */
export function wrapModelAdapter(provider: Provider, model: WatchedModel, wrap: (own: Required<Adapter>) => Partial<Adapter>): void {
  const adapter = (provider[model] as unknown as { readonly adapter: Required<Adapter> }).adapter;
  const own = Object.fromEntries(ADAPTER_METHODS.map((name) => [name, adapter[name].bind(adapter)])) as unknown as Required<Adapter>;
  Object.assign(adapter, wrap(own));
}

const ADAPTER_METHODS = ['upsert', 'find', 'findByUid', 'findByUserCode', 'consume', 'destroy', 'revokeByGrantId'] as const;

/**
 * Wraps DeviceCode.findByUserCode, the lookup of a user code entered on the device page, which the provider makes
 * before any hook on that page runs (lib/actions/code_verification.js).
 */
export function wrapUserCodeLookup(provider: Provider, wrap: (find: DeviceCodeLookup) => DeviceCodeLookup): void {
  const { DeviceCode } = provider;
  DeviceCode.findByUserCode = wrap(DeviceCode.findByUserCode.bind(DeviceCode));
}

type DeviceCodeLookup = Provider['DeviceCode']['findByUserCode'];

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
