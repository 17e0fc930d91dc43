import type { KeyVault } from '../stores.js';
import { guarded, type RedisClient } from './client.js';

/**
 * Key material generated once and shared by every instance on this Redis: the first instance to start
 * writes it (SET NX), every later one, and every restart, reads the same.
 */
export class RedisKeyVault implements KeyVault {
  readonly description = 'stored in Redis, shared by every instance';

  constructor(private readonly redis: RedisClient, private readonly prefix: string) {}

  loadOrCreate(name: string, generate: () => string): Promise<string> {
    return guarded(async () => {
      const key = `${this.prefix}keys:${name}`;
      const existing = await this.redis.get(key);
      if (existing !== null) return existing;
      await this.redis.set(key, generate(), 'NX');
      return (await this.redis.get(key))!;
    });
  }
}
