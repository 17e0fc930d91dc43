import type Provider from 'oidc-provider';
import { StorageUnavailable } from '../../adapters/errors.js';

/**
 * The name a person sees for a client: its client_name, else its client_id. The name is whatever the client
 * registered (DCR is open), so pages must escape it and never present it as verified. A client that can no
 * longer be loaded (a metadata document gone bad) is shown by its id rather than breaking the page; only a
 * storage outage propagates, as the 503 it is.
 */
export async function clientName(provider: Provider, clientId: string): Promise<string> {
  try {
    return (await provider.Client.find(clientId))?.clientName || clientId;
  } catch (err) {
    if (err instanceof StorageUnavailable) throw err;
    return clientId;
  }
}
