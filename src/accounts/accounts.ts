import { randomUUID } from 'node:crypto';
import type { Account, AccountStore } from '../../adapters/stores.js';
import type { AbuseLimits } from './abuse-limits.js';
import type { PasswordHasher } from './password.js';
import type { Credentials } from './rules.js';

export type LoginOutcome = 'succeeded' | 'failed';

export class AccountService {
  constructor(
    private readonly store: AccountStore,
    private readonly passwords: PasswordHasher,
    private readonly limits: AbuseLimits,
    private readonly onLogin: (outcome: LoginOutcome) => void = () => {},
  ) {}

  /** Undefined when the username is taken. Throws 429 when `ip` registered too often. */
  async register({ username, password }: Credentials, ip: string): Promise<Account | undefined> {
    await this.limits.beforeRegistration(ip);
    const account: Account = {
      id: randomUUID(),
      username,
      passwordHash: await this.passwords.hash(password),
      createdAt: Date.now(),
    };
    return (await this.store.create(account)) ? account : undefined;
  }

  /**
   * Unknown users cost one argon2 verification too, so timing does not tell which usernames exist. Throws 429
   * while the username or `ip` has failed too often.
   */
  authenticate(username: string, password: string, ip: string): Promise<Account | undefined> {
    return this.limits.login(username, ip, async () => {
      const account = await this.store.findByUsername(username);
      if (!account) await this.passwords.verifyNothing(password);
      const verified = account && (await this.passwords.verify(account.passwordHash, password)) ? account : undefined;
      this.onLogin(verified ? 'succeeded' : 'failed');
      return verified;
    });
  }

  findById(id: string): Promise<Account | undefined> {
    return this.store.findById(id);
  }
}
