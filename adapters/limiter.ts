import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { guarded, neverSent, type RedisClient } from './redis/client.js';
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
        if (!(refusal instanceof RateLimiterRes)) {
          // A count that timed out (a stalled Redis) still runs once Redis answers again: give it back then, or a
          // stall would leave legitimate clients refused. One that never left this process needs nothing.
          if (!neverSent(refusal)) void this.giveBack(key);
          throw refusal;
        }
        // consume() counts before it compares (that is what makes it atomic); a refused attempt is not counted.
        await this.giveBack(key);
        return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      }
    });
  }

  giveBack(key: string): Promise<void> {
    return this.reward(key, GIVE_BACK_RETRIES);
  }

  private async reward(key: string, retries: number): Promise<void> {
    try {
      await this.window.reward(key, 1);
    } catch {
      // Storage is away (a stall, a failover; the client reconnects every 2 s at most): try again shortly.
      if (retries > 0) setTimeout(() => void this.reward(key, retries - 1), GIVE_BACK_RETRY_MS).unref();
    }
  }
}

/** A give-back is retried for about 10 s; an outage longer than that leaves the count one high until its window ends. */
const GIVE_BACK_RETRIES = 5;
const GIVE_BACK_RETRY_MS = 2000;

export const memoryLimiters: LimiterFactory = (name, attempts, windowSeconds) =>
  new WindowLimiter(new RateLimiterMemory({ keyPrefix: name, points: attempts, duration: windowSeconds }));

export const redisLimiters = (redis: RedisClient, prefix: string): LimiterFactory => (name, attempts, windowSeconds) =>
  new WindowLimiter(new RateLimiterRedis({
    storeClient: redis, keyPrefix: `${prefix}limit:${name}`, points: attempts, duration: windowSeconds,
  }));
