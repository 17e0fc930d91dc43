import type { Redis } from 'ioredis';
import type { Consent, ConsentStore } from '../stores.js';
import { guarded } from './client.js';

/* P consents:{<accountId>}   hash: client id → JSON {clientId, grantId, grantedAt} */

export class RedisConsentStore implements ConsentStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key = (accountId: string) => `${this.prefix}consents:{${accountId}}`;

  remember(accountId: string, clientId: string, grantId: string): Promise<void> {
    return guarded(async () => {
      await this.redis.hset(this.key(accountId), clientId, JSON.stringify({ clientId, grantId, grantedAt: Date.now() }));
    });
  }

  find(accountId: string, clientId: string): Promise<Consent | undefined> {
    return guarded(async () => {
      const json = await this.redis.hget(this.key(accountId), clientId);
      return json ? (JSON.parse(json) as Consent) : undefined;
    });
  }

  list(accountId: string): Promise<Consent[]> {
    return guarded(async () => Object.values(await this.redis.hgetall(this.key(accountId))).map((json) => JSON.parse(json) as Consent));
  }

  forget(accountId: string, clientId: string): Promise<Consent | undefined> {
    return guarded(async () => {
      const consent = await this.find(accountId, clientId);
      await this.redis.hdel(this.key(accountId), clientId);
      return consent;
    });
  }
}
