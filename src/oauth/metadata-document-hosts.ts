import { errors, type KoaContextWithOIDC } from 'oidc-provider';

/** An https client_id whose host the operator did not allow (CIMD_ALLOWED_HOSTS): refused before anything is fetched. */
export class MetadataDocumentHostRefused extends errors.InvalidClient {}

/**
 * Which Client ID Metadata Documents the provider may fetch (its `allowFetch`), by the host of the client_id URL:
 * any when `allowed` is empty; else a host listed exactly, or one below a `*.example.com` entry (on the entry's port:
 * the default one unless it names another). Only what was allowed is ever fetched, so only that is in the provider's
 * document cache, which it serves without asking again.
 */
export function metadataDocumentHosts(allowed: readonly string[]) {
  const exact = new Set(allowed.filter((host) => !host.startsWith('*.')));
  const below = allowed.filter((host) => host.startsWith('*.')).map((host) => host.slice(1));
  return async (_ctx: KoaContextWithOIDC | undefined, clientId: string): Promise<boolean> => {
    if (!allowed.length) return true;
    // The provider calls this only with a client_id it has checked is a valid https URL.
    const { host } = new URL(clientId);
    if (exact.has(host) || below.some((suffix) => host.endsWith(suffix))) return true;
    throw new MetadataDocumentHostRefused(
      `this server accepts Client ID Metadata Documents only from the hosts its operator allows, and ${host} is not one of them`,
    );
  };
}
