import type Provider from 'oidc-provider';
import type { Client } from 'oidc-provider';
import { StorageUnavailable } from '../../adapters/errors.js';

/** Who a client is, as a person sees it. */
export interface ClientIdentity {
  /** Its client_name, else its client_id: whatever the client said (DCR is open), never to be presented as verified. */
  name: string;
  /**
   * For a client described by a Client ID Metadata Document, the host its client_id URL names: the one thing about it
   * that is checked (the document was fetched from there over https), so a person can tell who it is.
   */
  domain?: string;
}

/** The identity of a client already loaded. */
export function identityOf(client: Client): ClientIdentity {
  const fromDocument = (client as { clientIdMetadataDocument?: boolean }).clientIdMetadataDocument === true;
  return { name: client.clientName || client.clientId, ...(fromDocument ? { domain: new URL(client.clientId).host } : {}) };
}

/**
 * The identity of a client, for pages, which must escape it. A client that can no longer be loaded (a metadata
 * document gone bad) is shown by its id rather than breaking the page; only a storage outage propagates, as the 503
 * it is.
 */
export async function clientIdentity(provider: Provider, clientId: string): Promise<ClientIdentity> {
  try {
    const client = await provider.Client.find(clientId);
    return client ? identityOf(client) : { name: clientId };
  } catch (err) {
    if (err instanceof StorageUnavailable) throw err;
    return { name: clientId };
  }
}

/** The name alone, where a page names the app in passing (sign-in). */
export const clientName = async (provider: Provider, clientId: string): Promise<string> => (await clientIdentity(provider, clientId)).name;
