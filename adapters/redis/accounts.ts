import type { Result } from 'ioredis';
import { usernameKey, type Account, type AccountChanges, type AccountStore } from '../stores.js';
import { guarded, type RedisClient } from './client.js';
import { DurableWrites } from './durable-writes.js';
import { scanTagged } from './scan.js';

/*
 * P account:{<username, lower case>}   hash: id, username, passwordHash, createdAt, and disabledAt and lastLoginAt
 *                                      once set (the claim on the name)
 * P account-id:{<id>}                   the lower-case username of the account with this id
 * The id pointer is written first and checked against the hash on every read, so a crash between the two
 * writes leaves a pointer that resolves to nothing, never an account under a name it does not own. Deleting
 * goes the other way: the hash first, then the pointer.
 */

declare module 'ioredis' {
  interface RedisCommander<Context> {
    accountClaim(key: string, ...fieldsAndValues: string[]): Result<number, Context>;
    accountUpdate(key: string, id: string, ...fieldsAndValues: string[]): Result<number, Context>;
    accountDelete(key: string, id: string): Result<number, Context>;
  }
}

const CLAIM = `
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  redis.call('HSET', KEYS[1], unpack(ARGV))
  return 1`;

// Only the account with this id: a change never recreates a deleted account (a hash without an id would hold its name
// for good). An empty value removes the field; the fields to set go first, so that a Redis at its maxmemory refuses
// the script before it has changed anything.
const UPDATE = `
  if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
  for i = 2, #ARGV, 2 do
    if ARGV[i + 1] ~= '' then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  end
  for i = 2, #ARGV, 2 do
    if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) end
  end
  return 1`;

const DELETE = `
  if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
  return redis.call('DEL', KEYS[1])`;

export class RedisAccountStore implements AccountStore {
  constructor(private readonly redis: RedisClient, private readonly prefix: string, private readonly writes = new DurableWrites(redis)) {
    redis.defineCommand('accountClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('accountUpdate', { numberOfKeys: 1, lua: UPDATE });
    redis.defineCommand('accountDelete', { numberOfKeys: 1, lua: DELETE });
  }

  private nameKey = (username: string) => `${this.prefix}account:{${usernameKey(username)}}`;
  private idKey = (id: string) => `${this.prefix}account-id:{${id}}`;

  create(account: Account): Promise<boolean> {
    return guarded(async () => {
      // Two keys, two slots: on a cluster each write waits for the replicas of its own node.
      await this.writes.run((p) => p.set(this.idKey(account.id), usernameKey(account.username)));
      const [claimed] = await this.writes.run((p) => p.accountClaim(this.nameKey(account.username),
        'id', account.id, 'username', account.username, 'passwordHash', account.passwordHash, 'createdAt', String(account.createdAt)));
      if (claimed !== 1) await this.redis.del(this.idKey(account.id));
      return claimed === 1;
    });
  }

  findByUsername(username: string): Promise<Account | undefined> {
    return guarded(async () => {
      const fields = await this.redis.hgetall(this.nameKey(username));
      return fields.id ? toAccount(fields) : undefined;
    });
  }

  findById(id: string): Promise<Account | undefined> {
    return guarded(async () => {
      const name = await this.redis.get(this.idKey(id));
      const account = name === null ? undefined : await this.findByUsername(name);
      return account?.id === id ? account : undefined;
    });
  }

  list(): Promise<Account[]> {
    return guarded(async () => {
      const names = await scanTagged(this.redis, `${this.prefix}account:`);
      const accounts = await Promise.all(names.map((name) => this.findByUsername(name)));
      return accounts.filter((account) => account !== undefined);
    });
  }

  update(id: string, { passwordHash, disabledAt, lastLoginAt }: AccountChanges): Promise<boolean> {
    return guarded(async () => {
      const name = await this.redis.get(this.idKey(id));
      if (name === null) return false;
      const fields: string[] = [];
      if (passwordHash !== undefined) fields.push('passwordHash', passwordHash);
      if (disabledAt !== undefined) fields.push('disabledAt', disabledAt === null ? '' : String(disabledAt));
      if (lastLoginAt !== undefined) fields.push('lastLoginAt', String(lastLoginAt));
      // A new password and an account disabled must survive a failover; the time of a sign-in need not.
      const updated = passwordHash !== undefined || disabledAt !== undefined
        ? (await this.writes.run((p) => p.accountUpdate(this.nameKey(name), id, ...fields)))[0]
        : await this.redis.accountUpdate(this.nameKey(name), id, ...fields);
      return updated === 1;
    });
  }

  delete(id: string): Promise<boolean> {
    return guarded(async () => {
      const name = await this.redis.get(this.idKey(id));
      if (name === null) return false;
      const [deleted] = await this.writes.run((p) => p.accountDelete(this.nameKey(name), id));
      await this.writes.run((p) => p.del(this.idKey(id)));
      return deleted === 1;
    });
  }
}

function toAccount(fields: Record<string, string>): Account {
  return {
    id: fields.id!,
    username: fields.username!,
    passwordHash: fields.passwordHash!,
    createdAt: Number(fields.createdAt),
    ...(fields.disabledAt ? { disabledAt: Number(fields.disabledAt) } : {}),
    ...(fields.lastLoginAt ? { lastLoginAt: Number(fields.lastLoginAt) } : {}),
  };
}
