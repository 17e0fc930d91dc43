import type { Consent, ConsentStore } from '../stores.js';
import { guarded, type RedisClient } from './client.js';
import { DurableWrites } from './durable-writes.js';

/* P consents:{<accountId>}   hash: client id → JSON {clientId, grantId, grantedAt} */

export class RedisConsentStore implements ConsentStore {
  constructor(private readonly redis: RedisClient, private readonly prefix: string, private readonly writes = new DurableWrites(redis)) {}

  private key = (accountId: string) => `${this.prefix}consents:{${accountId}}`;

  remember(accountId: string, clientId: string, grantId: string): Promise<void> {
    return guarded(async () => {
      const consent = JSON.stringify({ clientId, grantId, grantedAt: Date.now() });
      await this.writes.run((p) => p.hset(this.key(accountId), clientId, consent));
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
      // A consent taken back must stay taken back after a failover.
      await this.writes.run((p) => p.hdel(this.key(accountId), clientId));
      return consent;
    });
  }
}
