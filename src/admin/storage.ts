import { config as loadDotenv } from 'dotenv';
import { StorageUnavailable } from '../../adapters/errors.js';
import { createStores } from '../../adapters/index.js';
import { withInvalidation } from '../../adapters/invalidating.js';
import { describeTopology } from '../../adapters/redis/client.js';
import type { Stores } from '../../adapters/stores.js';
import { staticClients } from '../../config/clients.js';
import { ConfigError, loadConfig, type Config } from '../../config/env.js';
import { AccountLifecycle } from '../accounts/lifecycle.js';
import { createPasswordHasher } from '../accounts/password.js';
import { createLogger } from '../log.js';
import { ClientDirectory } from '../oauth/client-directory.js';
import { fail } from './errors.js';

/** How long a command waits for its storage before it gives up (the server itself waits for as long as it takes). */
const CONNECT_TIMEOUT_SECONDS = 10;

/** What the commands act on: the server's own storage, through the same operations its pages use. */
export interface Operations {
  config: Config;
  stores: Stores;
  accounts: AccountLifecycle;
  clients: ClientDirectory;
  close(): Promise<void>;
}

/** The server's configuration: its environment, and a .env file in the working directory, as the server reads them. */
export function serverConfig(): Config {
  loadDotenv({ quiet: true });
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw fail.invalidConfiguration(err.problems);
    throw err;
  }
}

/** A storage outage in the middle of a command, in the words of the command line. */
export const asCliError = (err: unknown): unknown => (err instanceof StorageUnavailable ? fail.storageFailed(err) : err);

/** Connects to the server's storage, refusing memory storage, which lives in the server's process only. */
export async function openStorage(config = serverConfig()): Promise<Operations> {
  if (!config.redis) throw fail.memoryStorage();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(fail.unreachable(describeTopology(config.redis!.topology), CONNECT_TIMEOUT_SECONDS)), CONNECT_TIMEOUT_SECONDS * 1000);
  });
  const stores = await Promise.race([createStores(config, createLogger('silent')), timeout]).finally(() => clearTimeout(timer));
  // The provider's adapters as the server wraps them for revocations: invalidations go out over Redis to every instance.
  const adapters = withInvalidation(stores.oidc.factory, stores.invalidations);
  const issuer = config.issuer ?? `http://localhost:${config.port}`;
  return {
    config,
    stores,
    accounts: new AccountLifecycle({ stores, adapters, passwords: createPasswordHasher() }),
    clients: new ClientDirectory({ stores, adapters, staticClients: staticClients(config, issuer), idleTtlSeconds: config.clientIdleTtlSeconds }),
    close: () => stores.close(),
  };
}
