import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { classifyRedirectUri } from './redirect-uris.js';

export interface ClientMetadataPolicy {
  /** The fields the validator is called for (oidc-provider's extraClientMetadata.properties). */
  properties: string[];
  validator: (ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: Record<string, unknown>) => void;
}

/**
 * Bounds on what a self-registered client may store here. MCP hosts list at most six redirect URIs (VS Code), names of
 * a few words and short https URLs; these leave room for them many times over while keeping a registration (open to
 * anyone) from storing or showing megabytes.
 */
const MAX_URIS = 20;
const MAX_URI_LENGTH = 2000;
const MAX_NAME_LENGTH = 100;
const MAX_CONTACTS = 10;
const MAX_KEYS = 10;

/** Control characters and the bidirectional overrides that would let a name read differently from what it is. */
const UNSHOWABLE = /[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

const refuse = (description: string): never => {
  throw new errors.InvalidClientMetadata(description);
};

const refuseRedirect = (description: string): never => {
  const error = new errors.InvalidRedirectUri();
  error.error_description = description;
  throw error;
};

/** A field oidc-provider would act on that nothing here needs: refused, with why, rather than half-supported. */
const unsupported = (why: string) => (key: string) => refuse(`${key} is not supported by this server: ${why}`);

function boundedList(key: string, value: unknown[], refusal: (description: string) => never): void {
  if (value.length > MAX_URIS) refusal(`${key} may list at most ${MAX_URIS} URIs`);
  for (const uri of value) {
    if (typeof uri === 'string' && uri.length > MAX_URI_LENGTH) refusal(`${key} must not hold URIs longer than ${MAX_URI_LENGTH} characters`);
  }
}

/** Client ID Metadata Documents must use https for these already; DCR would take http, and a page might link them. */
function httpsUrl(key: string, value: unknown): void {
  if (typeof value !== 'string') return;
  if (value.length > MAX_URI_LENGTH) refuse(`${key} must be at most ${MAX_URI_LENGTH} characters`);
  if (!URL.canParse(value) || new URL(value).protocol !== 'https:') refuse(`${key} must be an https URL`);
}

/** Keys only serve private_key_jwt here (no request objects, no encrypted responses): anything else would be unused. */
function keysForPrivateKeyJwt(key: string, metadata: Record<string, unknown>): void {
  if (metadata.token_endpoint_auth_method !== 'private_key_jwt') refuse(`${key} is only accepted with token_endpoint_auth_method private_key_jwt`);
}

type Rule = (key: string, value: unknown, metadata: Record<string, unknown>) => void;

/**
 * Every field a self-registered client may set, and how it is held to it (README, "Security": the table of fields).
 * A field oidc-provider does not know and is not named here is ignored, as RFC 7591 §2 asks; one it knows but that is
 * not named here keeps the provider's own checks (response_types, application_type, subject_type, signing algorithms,
 * default_max_age, ...), which already allow only what this server supports.
 */
const RULES: Record<string, Rule> = {
  // See redirect-uris.ts. One refused URI refuses the registration: the popular hosts' URIs are all accepted, and a
  // client that also lists javascript: or a plain-http site is not one to guess about. A private-use scheme can only
  // reach a native app, so a client that lists one is native whatever it said (hosts often omit the type, and the
  // provider would refuse such a URI of a "web" client).
  redirect_uris(key, value, metadata) {
    if (!Array.isArray(value)) return;
    boundedList(key, value, refuseRedirect);
    const kinds = value.map((uri) => {
      const verdict = classifyRedirectUri(uri);
      if ('refused' in verdict) {
        return refuseRedirect(`redirect_uris must use https, http on a loopback address, or an app's private-use scheme: ${String(uri)} ${verdict.refused}`);
      }
      return verdict.kind;
    });
    if (kinds.includes('private-use')) metadata.application_type = 'native';
  },
  // Followed only for a sign-out tied to the signed-in user (post-logout-redirect.ts); https or loopback, since
  // nothing comes back to an app through them that would need its private-use scheme.
  post_logout_redirect_uris(key, value) {
    if (!Array.isArray(value)) return;
    boundedList(key, value, refuse);
    for (const uri of value) {
      const verdict = classifyRedirectUri(uri);
      if (!('kind' in verdict) || verdict.kind === 'private-use') {
        refuse(`post_logout_redirect_uris must use https or http on a loopback address: ${String(uri)} ${'refused' in verdict ? verdict.refused : 'uses a private-use scheme'}`);
      }
    }
  },
  // A client that may use the code grant may refresh, even if it did not list refresh_token (Zed does not, and
  // refreshes anyway): RFC 7591 §3.2.1 lets the server register other values than asked for, and the response says
  // so. Public clients' refresh tokens rotate.
  grant_types(_key, value, metadata) {
    if (Array.isArray(value) && value.includes('authorization_code') && !value.includes('refresh_token')) {
      metadata.grant_types = [...value, 'refresh_token'];
    }
  },
  // Not kept. It would restrict which OpenID scopes the client may later ask for, but a client that registers itself
  // restricts nothing it could not lift by registering again, and hosts register it from what they saw before asking
  // (the MCP scopes, an empty string, mcp-remote's "openid email profile") and later add offline_access. The MCP
  // scopes belong to the resource server, not to the client's OpenID scopes.
  scope(_key, _value, metadata) {
    delete metadata.scope;
  },
  // Shown on the consent, device, connected-apps and signed-out pages (escaped, and never as verified).
  client_name(key, value) {
    if (typeof value !== 'string') return;
    if ([...value].length > MAX_NAME_LENGTH) refuse(`${key} must be at most ${MAX_NAME_LENGTH} characters`);
    if (UNSHOWABLE.test(value)) refuse(`${key} must not contain control characters or bidirectional overrides`);
  },
  client_uri: httpsUrl,
  logo_uri: httpsUrl,
  policy_uri: httpsUrl,
  tos_uri: httpsUrl,
  contacts(key, value) {
    if (!Array.isArray(value)) return;
    if (value.length > MAX_CONTACTS) refuse(`${key} may list at most ${MAX_CONTACTS} addresses`);
    if (value.some((contact) => typeof contact === 'string' && contact.length > 254)) refuse(`${key} must hold e-mail addresses of at most 254 characters`);
  },
  // ChatGPT's metadata document: private_key_jwt against its jwks_uri. The provider fetches that document on use.
  jwks_uri(key, value, metadata) {
    keysForPrivateKeyJwt(key, metadata);
    httpsUrl(key, value);
  },
  jwks(key, value, metadata) {
    keysForPrivateKeyJwt(key, metadata);
    const keys = (value as { keys?: unknown } | null)?.keys;
    if (Array.isArray(keys) && keys.length > MAX_KEYS) refuse(`${key} may hold at most ${MAX_KEYS} keys`);
  },
  sector_identifier_uri: unsupported('subject identifiers are public here, and the server fetches no sector document'),
  initiate_login_uri: unsupported('sign-ins start at the app, never from this server'),
  request_uris: unsupported('request objects by reference are not accepted'),
  backchannel_logout_uri: unsupported('this server sends no logout notifications'),
  frontchannel_logout_uri: unsupported('this server sends no logout notifications'),
};

/**
 * Checks and tidies the metadata of every client that describes itself: registered by DCR, described by a Client ID
 * Metadata Document, or loaded back from storage. The provider builds the last two without a request context, so
 * the rules key on the client, not on the request: only the operator's static clients are exempt. A refusal is
 * invalid_client_metadata (invalid_redirect_uri for redirect_uris) naming the field; for a metadata document it makes
 * the document unusable.
 */
export function clientMetadataPolicy(staticClientIds: ReadonlySet<string>): ClientMetadataPolicy {
  return {
    properties: Object.keys(RULES),
    validator(_ctx, key, value, metadata) {
      if (staticClientIds.has(String(metadata.client_id))) return;
      if (value === undefined) return;
      RULES[key]?.(key, value, metadata);
    },
  };
}
