import type { Config } from '../config/env.js';
import type { Logger } from '../src/log.js';
import { memoryLimiters, redisLimiters } from './limiter.js';
import { MemoryAccountStore } from './memory/accounts.js';
import { MemoryConsentStore } from './memory/consents.js';
import { MemoryInvalidationBus } from './memory/invalidations.js';
import { MemoryKeyVault } from './memory/key-material.js';
import { MemoryNotesStore } from './memory/notes.js';
import { memoryOidcStorage } from './memory/oidc-adapter.js';
import { RedisAccountStore } from './redis/accounts.js';
import { createRedisClient, describeRedisUrl } from './redis/client.js';
import { RedisConsentStore } from './redis/consents.js';
import { RedisInvalidationBus } from './redis/invalidations.js';
import { RedisKeyVault } from './redis/key-material.js';
import { RedisNotesStore } from './redis/notes.js';
import { redisOidcStorage } from './redis/oidc-adapter.js';
import type { Stores } from './stores.js';

function memoryStores(): Stores {
  const oidc = memoryOidcStorage();
  return {
    accounts: new MemoryAccountStore(),
    notes: new MemoryNotesStore(),
    consents: new MemoryConsentStore(),
    invalidations: new MemoryInvalidationBus(),
    limiter: memoryLimiters,
    oidc,
    keys: new MemoryKeyVault(),
    description: 'in memory (REDIS_URL not set): all state is lost when the process stops',
    ping: async () => true,
    close: async () => oidc.close(),
  };
}

/**
 * Connects to Redis, waiting (and retrying) as long as it takes: a server started before its Redis answers
 * 503 meanwhile instead of crash-looping. Outages are logged once when they start and once when they end.
 */
async function redisStores(url: string, prefix: string, log: Logger): Promise<Stores> {
  const where = describeRedisUrl(url);
  const redis = createRedisClient(url);
  let down = false;
  const wentDown = (reason: string) => {
    if (down) return;
    down = true;
    log.warn(`Redis at ${where} is unreachable (${reason}); retrying`);
  };
  // 'close' is a lost connection, 'error' a failed attempt: either starts an outage, logged once.
  redis.on('close', () => wentDown('connection closed'));
  redis.on('error', (err: Error) => wentDown(err.message));
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info(`Redis at ${where} is reachable again`);
  });
  const ready = new Promise<void>((resolve) => redis.once('ready', resolve));
  redis.connect().catch(() => { /* the 'error' handler reports it; the client keeps retrying */ });
  await ready;
  const invalidations = new RedisInvalidationBus(redis, prefix);
  await invalidations.start();
  return {
    accounts: new RedisAccountStore(redis, prefix),
    notes: new RedisNotesStore(redis, prefix),
    consents: new RedisConsentStore(redis, prefix),
    invalidations,
    limiter: redisLimiters(redis, prefix),
    oidc: redisOidcStorage(redis, prefix),
    keys: new RedisKeyVault(redis, prefix),
    description: `Redis at ${where}, key prefix "${prefix}"`,
    ping: async () => (await redis.ping()) === 'PONG',
    close: async () => {
      invalidations.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function createStores(config: Config, log: Logger): Promise<Stores> {
  return config.redis ? redisStores(config.redis.url, config.redis.prefix, log) : Promise.resolve(memoryStores());
}
