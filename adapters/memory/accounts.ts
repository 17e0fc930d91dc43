import { usernameKey, type Account, type AccountChanges, type AccountStore } from '../stores.js';

export class MemoryAccountStore implements AccountStore {
  private readonly byId = new Map<string, Account>();
  private readonly idByUsername = new Map<string, string>();

  async create(account: Account): Promise<boolean> {
    const key = usernameKey(account.username);
    if (this.idByUsername.has(key)) return false;
    this.idByUsername.set(key, account.id);
    this.byId.set(account.id, { ...account });
    return true;
  }

  async findByUsername(username: string): Promise<Account | undefined> {
    const id = this.idByUsername.get(usernameKey(username));
    return id === undefined ? undefined : this.findById(id);
  }

  async findById(id: string): Promise<Account | undefined> {
    const account = this.byId.get(id);
    return account && { ...account };
  }

  async list(): Promise<Account[]> {
    return [...this.byId.values()].map((account) => ({ ...account }));
  }

  async update(id: string, { disabledAt, ...changes }: AccountChanges): Promise<boolean> {
    const account = this.byId.get(id);
    if (!account) return false;
    Object.assign(account, changes);
    if (disabledAt === null) delete account.disabledAt;
    else if (disabledAt !== undefined) account.disabledAt = disabledAt;
    return true;
  }

  async delete(id: string): Promise<boolean> {
    const account = this.byId.get(id);
    if (!account) return false;
    this.byId.delete(id);
    this.idByUsername.delete(usernameKey(account.username));
    return true;
  }
}
