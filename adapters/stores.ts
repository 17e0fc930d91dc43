/** The app's own state (beside oidc-provider's models), behind interfaces with one backing per storage. */

export interface Account {
  id: string;
  /** As the user typed it; uniqueness is case-insensitive. */
  username: string;
  passwordHash: string;
  createdAt: number;
}

export interface AccountStore {
  /** Claims the username atomically; false when it is taken (in any letter case). */
  create(account: Account): Promise<boolean>;
  findByUsername(username: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
}

export interface Stores {
  accounts: AccountStore;
  /** Human-readable, for the start-up log. */
  description: string;
}

/** The key an account is unique under. */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}
