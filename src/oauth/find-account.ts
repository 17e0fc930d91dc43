import type { FindAccount } from 'oidc-provider';
import type { AccountService } from '../accounts/accounts.js';

/** What the provider knows of a user: the seed's userinfo shape `{id, username}` plus the standard claims. */
export function findAccount(accounts: AccountService): FindAccount {
  return async (_ctx, sub) => {
    const account = await accounts.findById(sub);
    if (!account) return undefined;
    return {
      accountId: account.id,
      claims: async () => ({
        sub: account.id,
        id: account.id,
        username: account.username,
        preferred_username: account.username,
      }),
    };
  };
}
