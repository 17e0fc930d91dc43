import type { Result } from 'ioredis';
import { usernameKey, type Account, type AccountStore } from '../stores.js';
import { guarded, type RedisClient } from './client.js';
import { DurableWrites } from './durable-writes.js';

/*
 * P account:{<username, lower case>}   hash: id, username, passwordHash, createdAt (the claim on the name)
 * P account-id:{<id>}                   the lower-case username of the account with this id
 * The id pointer is written first and checked against the hash on every read, so a crash between the two
 * writes leaves a pointer that resolves to nothing, never an account under a name it does not own.
 */

declare module 'ioredis' {
  interface RedisCommander<Context> {
    accountClaim(key: string, ...fieldsAndValues: string[]): Result<number, Context>;
  }
}

const CLAIM = `
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  redis.call('HSET', KEYS[1], unpack(ARGV))
  return 1`;

export class RedisAccountStore implements AccountStore {
  constructor(private readonly redis: RedisClient, private readonly prefix: string, private readonly writes = new DurableWrites(redis)) {
    redis.defineCommand('accountClaim', { numberOfKeys: 1, lua: CLAIM });
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
}

function toAccount(fields: Record<string, string>): Account {
  return {
    id: fields.id!,
    username: fields.username!,
    passwordHash: fields.passwordHash!,
    createdAt: Number(fields.createdAt),
  };
}
