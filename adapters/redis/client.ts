import { Redis } from 'ioredis';
import { StorageUnavailable } from '../errors.js';

/** Redis replies that mean "not now" rather than "you asked for something wrong". */
const TRANSIENT_REPLY = /^(LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|BUSY)\b/;

/**
 * Turns "Redis cannot be reached" (connection refused or lost, timed out, offline queue closed, a replica
 * that cannot write) into StorageUnavailable; any other error is a bug and propagates as it is.
 */
export function classify(err: unknown): unknown {
  if (err instanceof StorageUnavailable) return err;
  if (err instanceof Error) {
    if (err.name === 'ReplyError' && !TRANSIENT_REPLY.test(err.message)) return err;
    return new StorageUnavailable(err);
  }
  return err;
}

/** Runs storage work, reporting an unreachable Redis as StorageUnavailable. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw classify(err);
  }
}

/** The URL without its password, for logs. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return 'the configured REDIS_URL';
  }
}

/**
 * One connection per process. While Redis is away, commands fail at once (no offline queue, so requests get a
 * quick 503 instead of hanging) and the client keeps reconnecting in the background, every 2 s at most.
 */
export function createRedisClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2_000,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
  });
}
