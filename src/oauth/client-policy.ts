import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { OIDC_SCOPES } from '../../config/scopes.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The MCP authorization spec: redirect URIs must be https, or http on a loopback address (RFC 8252). */
export function isAllowedRedirectUri(uri: string): boolean {
  if (!URL.canParse(uri)) return false;
  const { protocol, hostname } = new URL(uri);
  return protocol === 'https:' || (protocol === 'http:' && LOOPBACK.has(hostname));
}

/**
 * Checks and tidies the metadata of clients that register themselves (DCR) or are described by a Client ID
 * Metadata Document, before the provider validates it. Static clients (no request) are the operator's own.
 *  - redirect_uris: https or loopback http only.
 *  - scope: hosts register the MCP scopes they want (the SDK's client does); those belong to the resource
 *    server, not to the client's OIDC scope list, so only the OIDC part is kept as the client's restriction.
 */
export function clientMetadataPolicy(ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: Record<string, unknown>): void {
  if (!ctx?.oidc) return;
  if (key === 'redirect_uris' && Array.isArray(value)) {
    const refused = value.find((uri) => typeof uri !== 'string' || !isAllowedRedirectUri(uri));
    if (refused !== undefined) {
      const error = new errors.InvalidRedirectUri();
      error.error_description = `redirect_uris must use https, or http on a loopback address (got ${String(refused)})`;
      throw error;
    }
  }
  if (key === 'scope' && typeof value === 'string') {
    const oidc = value.split(' ').filter((scope) => scope in OIDC_SCOPES);
    if (oidc.length) metadata.scope = oidc.join(' ');
    else delete metadata.scope;
  }
}
