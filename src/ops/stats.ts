import type { Stores } from '../../adapters/stores.js';

export interface StorageStats {
  users: number;
  disabledUsers: number;
  /** Self-registered (Dynamic Client Registration) clients; the configured ones are not stored. */
  registeredClients: number;
  /** Grants that have not expired nor been revoked: one per user and app that may get tokens. */
  activeGrants: number;
}

/** What storage holds, counted by walking it: for the operator's command, never for a request. */
export async function storageStats({ accounts, oidc }: Pick<Stores, 'accounts' | 'oidc'>): Promise<StorageStats> {
  const [users, clients, grants] = await Promise.all([accounts.list(), oidc.ids('Client'), oidc.ids('Grant')]);
  return {
    users: users.length,
    disabledUsers: users.filter((user) => user.disabledAt).length,
    registeredClients: clients.length,
    activeGrants: grants.length,
  };
}
