import { MemoryAccountStore } from './memory/accounts.js';
import type { Stores } from './stores.js';

/** In memory: everything is lost when the process stops. The oidc-provider models use its built-in memory adapter. */
export function createStores(): Stores {
  return { accounts: new MemoryAccountStore(), description: 'in memory (REDIS_URL not set): all state is lost when the process stops' };
}
