import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisAddress, RedisTopology } from '../../config/redis.js';
import { STORAGE_COMMAND_TIMEOUT_MS } from '../../config/storage-outages.js';
import { StorageUnavailable } from '../errors.js';

/** One Redis server, a primary found through Sentinel (both a Redis), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Redis replies that mean "not now" rather than "you asked for something wrong". OOM too: a Redis at its maxmemory
 * refuses writes until keys expire or an operator acts, which is an outage of storage, not a bug here. READONLY and
 * a refused WAIT come from a primary demoted by a failover, NOREPLICAS from one that lost its replicas
 * (min-replicas-to-write). A MOVED or ASK that reaches here is a cluster slot still moving after its redirections ran
 * out (REDIS_URL naming a cluster node is refused at start).
 */
const TRANSIENT_REPLY = /^(LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|BUSY|OOM|NOREPLICAS|MOVED|ASK|ERR WAIT cannot be used with replica)\b/;
/**
 * What ioredis says when it has no usable connection (offline queue off, connection gone under a command or a
 * pipeline, timeout), or no usable
 * cluster map or primary: a cluster mid-failover (redirections that do not settle, slots no node serves yet) or
 * sentinels that cannot be asked.
 */
const NO_CONNECTION = new RegExp('^(' + [
  "Stream isn't writeable", 'Connection is closed', 'Command timed out', 'connect ETIMEDOUT', 'Command aborted due to connection close',
  'Too many Cluster redirections', 'Failed to refresh slots cache', "Cluster isn't ready", 'None of startup nodes is available',
  'Cluster is disconnected', 'All sentinels are unreachable',
].join('|') + ')');
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Turns "Redis cannot be reached" (connection refused or lost, timed out, retries exhausted, a replica that
 * cannot write, a failover under way) into StorageUnavailable. Everything else propagates as it is: the provider's
 * own errors (a lost consume race is invalid_grant) keep their meaning, and a bug stays a logged 500.
 */
export function classify(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof StorageUnavailable) return err;
  const { name, message } = err;
  const code = (err as NodeJS.ErrnoException).code;
  const outage = (name === 'ReplyError' && TRANSIENT_REPLY.test(message))
    || name === 'MaxRetriesPerRequestError'
    || name === 'ClusterAllFailedError'
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

const addresses = (list: RedisAddress[]) => list.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');

/** Where storage is, for logs: never a password, only whether one is used. */
export function describeTopology(topology: RedisTopology): string {
  if (topology.kind === 'standalone') return `Redis at ${describeRedisUrl(topology.url)}`;
  const access = [topology.tls && 'TLS', topology.username && `user ${topology.username}`, topology.password && 'password']
    .filter(Boolean).join(', ');
  const suffix = access ? ` (${access})` : '';
  return topology.kind === 'cluster'
    ? `Redis Cluster through ${addresses(topology.nodes)}${suffix}`
    : `Redis primary "${topology.name}" through the sentinels ${addresses(topology.sentinels)}${suffix}`;
}

const backoff = (attempt: number) => Math.min(100 * attempt, 2_000);

/**
 * While storage is away, commands fail at once (no offline queue, so requests get a quick 503 instead of hanging)
 * and the client keeps reconnecting in the background, every 2 s at most.
 */
const OUTAGE_OPTIONS = {
  maxRetriesPerRequest: 1,
  commandTimeout: STORAGE_COMMAND_TIMEOUT_MS,
  connectTimeout: 2_000,
} satisfies RedisOptions;

/**
 * A primary that a failover demoted answers writes with READONLY (or refuses WAIT) for as long as the connection
 * lasts: drop the connection, so that the client asks the sentinels (or DNS, for a URL) where the primary is now.
 * The command that met it fails (a 503); later ones go to the new primary.
 */
const reconnectOnError = (err: Error) => /^(READONLY|ERR WAIT cannot be used with replica)/.test(err.message);

/** One client per process, on the configured topology; it connects when asked (connect()). */
export function createRedisClient(topology: RedisTopology): RedisClient {
  // Commands issued in the same tick by concurrent requests travel in one round trip (per node, on a cluster).
  const common = { lazyConnect: true, enableOfflineQueue: false, enableAutoPipelining: true } as const;
  if (topology.kind === 'standalone') {
    return new Redis(topology.url, { ...common, ...OUTAGE_OPTIONS, retryStrategy: backoff, reconnectOnError });
  }
  const access = {
    username: topology.username,
    password: topology.password,
    ...(topology.tls ? { tls: {} } : {}),
  };
  if (topology.kind === 'sentinel') {
    return new Redis({
      ...common,
      ...OUTAGE_OPTIONS,
      ...access,
      sentinels: topology.sentinels,
      name: topology.name,
      sentinelUsername: topology.sentinelUsername,
      sentinelPassword: topology.sentinelPassword,
      ...(topology.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      sentinelCommandTimeout: STORAGE_COMMAND_TIMEOUT_MS,
      retryStrategy: backoff,
      sentinelRetryStrategy: backoff,
      // Sentinels announce a new primary (+switch-master): reconnect to it at once rather than at the first READONLY.
      failoverDetector: true,
      reconnectOnError,
    });
  }
  return new Cluster(topology.nodes, {
    ...common,
    clusterRetryStrategy: backoff,
    // Redirections, CLUSTERDOWN and TRYAGAIN are retried this often (16 times at most) while a failover settles.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    retryDelayOnMoved: 50,
    slotsRefreshTimeout: 1_000,
    // TLS certificates name the nodes' host names, which must not be resolved to addresses first.
    ...(topology.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    redisOptions: { ...OUTAGE_OPTIONS, ...access },
  });
}
