import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { guarded } from './redis/client.js';
import type { Limiter, LimiterFactory } from './stores.js';

/** A fixed window of `attempts` per key; over it, the key waits for the window to end. */
class WindowLimiter implements Limiter {
  constructor(private readonly window: RateLimiterAbstract, private readonly attempts: number) {}

  blockedFor(key: string): Promise<number> {
    return guarded(async () => {
      const state = await this.window.get(key);
      return state && state.consumedPoints >= this.attempts ? Math.max(1, Math.ceil(state.msBeforeNext / 1000)) : 0;
    });
  }

  hit(key: string): Promise<void> {
    return guarded(async () => {
      await this.window.penalty(key, 1);
    });
  }
}

export const memoryLimiters: LimiterFactory = (name, attempts, windowSeconds) =>
  new WindowLimiter(new RateLimiterMemory({ keyPrefix: name, points: attempts, duration: windowSeconds }), attempts);

export const redisLimiters = (redis: Redis, prefix: string): LimiterFactory => (name, attempts, windowSeconds) =>
  new WindowLimiter(new RateLimiterRedis({
    storeClient: redis, keyPrefix: `${prefix}limit:${name}`, points: attempts, duration: windowSeconds,
  }), attempts);
