import { Redis } from 'ioredis';
import { StorageUnavailable } from '../errors.js';

/**
 * Redis replies that mean "not now" rather than "you asked for something wrong". OOM too: a Redis at its maxmemory
 * refuses writes until keys expire or an operator acts, which is an outage of storage, not a bug here.
 */
const TRANSIENT_REPLY = /^(LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|BUSY|OOM)\b/;
/** What ioredis says when it has no usable connection (offline queue off, connection gone, timeout). */
const NO_CONNECTION = /^(Stream isn't writeable|Connection is closed|Command timed out|connect ETIMEDOUT)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Turns "Redis cannot be reached" (connection refused or lost, timed out, retries exhausted, a replica that
 * cannot write) into StorageUnavailable. Everything else propagates as it is: the provider's own errors (a
 * lost consume race is invalid_grant) keep their meaning, and a bug stays a logged 500.
 */
export function classify(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof StorageUnavailable) return err;
  const { name, message } = err;
  const code = (err as NodeJS.ErrnoException).code;
  const outage = (name === 'ReplyError' && TRANSIENT_REPLY.test(message))
    || name === 'MaxRetriesPerRequestError'
    || NO_CONNECTION.test(message)
    || (code !== undefined && NETWORK_CODES.has(code));
  return outage ? new StorageUnavailable(err) : err;
}

/**
 * Whether a failed command surely never reached Redis: without a connection, ioredis refuses it at once (no
 * offline queue). A command that timed out, or was cut off with its connection, may still have run.
 */
export function neverSent(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("Stream isn't writeable");
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
    // Commands issued in the same tick by concurrent requests travel in one round trip.
    enableAutoPipelining: true,
  });
}
