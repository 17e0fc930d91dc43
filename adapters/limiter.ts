import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { guarded } from './redis/client.js';
import type { Limiter, LimiterFactory } from './stores.js';

/** A fixed window of `attempts` per key; over it, the key waits for the window to end. */
class WindowLimiter implements Limiter {
  constructor(private readonly window: RateLimiterAbstract) {}

  take(key: string): Promise<number> {
    return guarded(async () => {
      try {
        await this.window.consume(key, 1);
        return 0;
      } catch (refusal) {
        // consume() counts before it compares (that is what makes it atomic); a refused attempt is not counted.
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        await this.window.reward(key, 1);
        return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      }
    });
  }

  giveBack(key: string): Promise<void> {
    return guarded(async () => {
      await this.window.reward(key, 1);
    });
  }
}

export const memoryLimiters: LimiterFactory = (name, attempts, windowSeconds) =>
  new WindowLimiter(new RateLimiterMemory({ keyPrefix: name, points: attempts, duration: windowSeconds }));

export const redisLimiters = (redis: Redis, prefix: string): LimiterFactory => (name, attempts, windowSeconds) =>
  new WindowLimiter(new RateLimiterRedis({
    storeClient: redis, keyPrefix: `${prefix}limit:${name}`, points: attempts, duration: windowSeconds,
  }));
