import { randomUUID } from 'node:crypto';
import type { Account, AccountStore } from '../../adapters/stores.js';
import { Problem } from '../http/problem.js';
import type { AbuseLimits } from '../limits/abuse-limits.js';
import type { PasswordHasher } from './password.js';
import type { Credentials } from './rules.js';

export type LoginOutcome = 'succeeded' | 'failed' | 'disabled';

/** The answer to the right password of an account an operator has disabled. */
export const accountDisabled = () =>
  new Problem(403, 'account_disabled', 'this account is disabled; ask the operator of this server to enable it');

export const isAccountDisabled = (err: unknown): boolean => err instanceof Problem && err.error === 'account_disabled';

/** Hashes the password and claims the username; undefined when the username is taken. */
export async function createAccount(store: AccountStore, passwords: PasswordHasher, { username, password }: Credentials): Promise<Account | undefined> {
  const account: Account = {
    id: randomUUID(),
    username,
    passwordHash: await passwords.hash(password),
    createdAt: Date.now(),
  };
  return (await store.create(account)) ? account : undefined;
}

export class AccountService {
  constructor(
    private readonly store: AccountStore,
    private readonly passwords: PasswordHasher,
    private readonly limits: AbuseLimits,
    private readonly onLogin: (outcome: LoginOutcome) => void = () => {},
  ) {}

  /** Undefined when the username is taken. Throws 429 when `ip` registered too often. */
  async register(credentials: Credentials, ip: string): Promise<Account | undefined> {
    await this.limits.beforeRegistration(ip);
    return createAccount(this.store, this.passwords, credentials);
  }

  /**
   * Unknown users cost one argon2 verification too, so timing does not tell which usernames exist. Throws 429
   * while the username or `ip` has failed too often, and 403 (accountDisabled) for the right password of a disabled
   * account: only who knows the password learns that the account is disabled.
   */
  async authenticate(username: string, password: string, ip: string): Promise<Account | undefined> {
    const verified = await this.limits.login(username, ip, async () => {
      const account = await this.store.findByUsername(username);
      if (!account) await this.passwords.verifyNothing(password);
      const match = account && (await this.passwords.verify(account.passwordHash, password)) ? account : undefined;
      this.onLogin(!match ? 'failed' : match.disabledAt ? 'disabled' : 'succeeded');
      return match;
    });
    if (verified?.disabledAt) throw accountDisabled();
    if (verified) await this.store.update(verified.id, { lastLoginAt: Date.now() });
    return verified;
  }

  /**
   * Whether `password` is the signed-in user's own, asked before a change only they may make (a new password, deleting
   * the account). Counted as a login attempt of the user from `ip`, so a session left open, or stolen, gives no faster
   * way to guess the password than the sign-in form: throws 429 while either is over the limit.
   */
  async checkPassword(account: Account, password: string, ip: string): Promise<boolean> {
    const verified = () => this.passwords.verify(account.passwordHash, password);
    return (await this.limits.login(account.username, ip, async () => (await verified()) || undefined)) === true;
  }

  /**
   * An account that may act: a disabled one is not found, so the provider treats its sessions as signed out and
   * refuses to refresh its tokens.
   */
  async findById(id: string): Promise<Account | undefined> {
    const account = await this.store.findById(id);
    return account?.disabledAt ? undefined : account;
  }
}
