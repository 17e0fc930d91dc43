import { Redis } from 'ioredis';
import type { Config } from '../config/env.js';
import type { RedisConfig } from '../config/redis.js';
import type { Logger } from '../src/log.js';
import { memoryLimiters, redisLimiters } from './limiter.js';
import { MemoryAccountStore } from './memory/accounts.js';
import { MemoryConsentStore } from './memory/consents.js';
import { MemoryInvalidationBus } from './memory/invalidations.js';
import { MemoryKeyVault } from './memory/key-material.js';
import { MemoryNotesStore } from './memory/notes.js';
import { memoryOidcStorage } from './memory/oidc-adapter.js';
import { RedisAccountStore } from './redis/accounts.js';
import { createRedisClient, describeTopology } from './redis/client.js';
import { DurableWrites } from './redis/durable-writes.js';
import { pingAll, refuseOtherTopologies, watchOutages } from './redis/health.js';
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
async function redisStores(config: RedisConfig, log: Logger): Promise<Stores> {
  const { topology, prefix } = config;
  const where = describeTopology(topology);
  const redis = createRedisClient(topology);
  const ping = () => pingAll(redis);
  const stopWatching = watchOutages(redis, where, ping, log);
  const ready = new Promise<void>((resolve) => redis.once('ready', resolve));
  redis.connect().catch(() => { /* the 'error' handler reports it; the client keeps retrying */ });
  await ready;
  if (redis instanceof Redis) {
    await refuseOtherTopologies(redis).catch((err: unknown) => {
      stopWatching();
      redis.disconnect();
      throw err;
    });
  }
  const durable = new DurableWrites(redis, { replicas: config.waitReplicas, timeoutMs: config.waitTimeoutMs }, (m) => log.warn(m));
  const invalidations = new RedisInvalidationBus(redis, prefix);
  await invalidations.start();
  const waits = config.waitReplicas ? `, writes wait for ${config.waitReplicas} replica(s) (${config.waitTimeoutMs} ms at most)` : '';
  return {
    accounts: new RedisAccountStore(redis, prefix, durable),
    notes: new RedisNotesStore(redis, prefix, durable),
    consents: new RedisConsentStore(redis, prefix, durable),
    invalidations,
    limiter: redisLimiters(redis, prefix),
    oidc: redisOidcStorage(redis, prefix, durable),
    keys: new RedisKeyVault(redis, prefix),
    description: `${where}, key prefix "${prefix}"${waits}`,
    ping,
    close: async () => {
      stopWatching();
      invalidations.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function createStores(config: Config, log: Logger): Promise<Stores> {
  return config.redis ? redisStores(config.redis, log) : Promise.resolve(memoryStores());
}
