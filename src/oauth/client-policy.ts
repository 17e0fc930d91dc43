import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { classifyRedirectUri } from './redirect-uris.js';

export type ClientMetadataPolicy = (ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: Record<string, unknown>) => void;

/**
 * Checks and tidies the metadata of every client that describes itself: registered by DCR, described by a Client ID
 * Metadata Document, or loaded back from storage. The provider builds the last two without a request context, so
 * the rules key on the client, not on the request: only the operator's static clients are exempt.
 *  - redirect_uris: see redirect-uris.ts. One refused URI refuses the registration: the popular hosts' URIs are all
 *    accepted, and a client that also lists javascript: or a plain-http site is not one to guess about.
 *  - application_type: a private-use scheme can only reach a native app, so a client that lists one is native,
 *    whatever it said (hosts often omit it, and the provider would refuse such a URI of a "web" client). Otherwise
 *    the type is the client's, defaulting to web (RFC 7591, OpenID Connect Registration).
 *  - grant_types: a client that may use the code grant may refresh, even if it did not list refresh_token (Zed
 *    does not, and refreshes anyway): RFC 7591 §3.2.1 lets the server register other values than asked for, and
 *    the response says so. Public clients' refresh tokens rotate.
 *  - scope: not kept. It would restrict which OpenID scopes the client may later ask for, but a client that
 *    registers itself restricts nothing it could not lift by registering again, and hosts register it from what
 *    they saw before asking (the MCP scopes, an empty string, mcp-remote's "openid email profile") and later add
 *    offline_access. The MCP scopes belong to the resource server, not to the client's OpenID scopes.
 */
export function clientMetadataPolicy(staticClientIds: ReadonlySet<string>): ClientMetadataPolicy {
  return (_ctx, key, value, metadata) => {
    if (staticClientIds.has(String(metadata.client_id))) return;
    if (key === 'redirect_uris' && Array.isArray(value)) {
      const kinds = value.map((uri) => {
        const verdict = classifyRedirectUri(uri);
        if ('refused' in verdict) {
          const error = new errors.InvalidRedirectUri();
          error.error_description = `redirect_uris must use https, http on a loopback address, or an app's private-use scheme: ${String(uri)} ${verdict.refused}`;
          throw error;
        }
        return verdict.kind;
      });
      if (kinds.includes('private-use')) metadata.application_type = 'native';
    }
    if (key === 'grant_types' && Array.isArray(value) && value.includes('authorization_code') && !value.includes('refresh_token')) {
      metadata.grant_types = [...value, 'refresh_token'];
    }
    if (key === 'scope') delete metadata.scope;
  };
}
