import { z } from 'zod';

/*
 * Where Redis is: one server (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES) or a primary found through Sentinel
 * (REDIS_SENTINELS + REDIS_SENTINEL_NAME); exactly one of them. A URL carries its own credentials and TLS (rediss://);
 * for the two others REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS say the same, and sentinels that require a
 * password of their own get REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD.
 */

export interface RedisAddress {
  host: string;
  port: number;
}

/** Credentials and TLS for the data nodes (cluster nodes, or the primary and replicas behind sentinels). */
export interface RedisAccess {
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

export type RedisTopology =
  | { kind: 'standalone'; url: string }
  | ({ kind: 'cluster'; nodes: RedisAddress[] } & RedisAccess)
  | ({
    kind: 'sentinel';
    sentinels: RedisAddress[];
    /** The monitored group (`sentinel monitor <name> ...`). */
    name: string;
    sentinelUsername: string | undefined;
    sentinelPassword: string | undefined;
  } & RedisAccess);

export interface RedisConfig {
  topology: RedisTopology;
  prefix: string;
  /**
   * Writes that must survive the loss of the primary wait (Redis WAIT) until `replicas` replicas have them, at most
   * `timeoutMs`; 0 replicas: acknowledged as soon as the primary has them (Redis replicates asynchronously).
   */
  waitReplicas: number;
  waitTimeoutMs: number;
}

/** host:port, host being a name, an IPv4 address or a bracketed IPv6 address. */
const ADDRESS = /^([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\]):(\d{1,5})$/i;

/** REDIS_CLUSTER_NODES' and REDIS_SENTINELS' entries, once split at commas. */
export const redisAddresses = z.array(z.string().refine((entry) => {
  const port = Number(ADDRESS.exec(entry)?.[2]);
  return port >= 1 && port <= 65535;
}, { error: 'entries must be host:port, e.g. redis-1:6379 or 10.0.0.5:6379', abort: true }))
  .min(1, 'must list at least one host:port')
  .transform((entries) => entries.map((entry): RedisAddress => {
    const [, host, port] = ADDRESS.exec(entry)!;
    return { host: host!.replace(/^\[|\]$/g, ''), port: Number(port) };
  }));

/** The Redis variables as config/env.ts parsed them. */
export interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: RedisAddress[] | undefined;
  REDIS_SENTINELS?: RedisAddress[] | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_TLS?: boolean | undefined;
  REDIS_SENTINEL_USERNAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_PREFIX: string;
  REDIS_WAIT_REPLICAS: number;
  REDIS_WAIT_TIMEOUT_MS: number;
}

/** The topology the variables describe, or the problems that make them contradict each other. */
export function redisConfig(env: RedisEnv): { redis?: RedisConfig; problems: string[] } {
  const chosen = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((name) => env[name] !== undefined);
  const problems: string[] = [];
  if (chosen.length > 1) problems.push(`${chosen.join(', ')}: set one of them, not ${chosen.length === 2 ? 'both' : 'several'}`);
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) {
    problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name the sentinels monitor, e.g. mymaster)');
  }
  const stray = (names: (keyof RedisEnv)[], reason: string) => {
    for (const name of names) if (env[name] !== undefined) problems.push(`${name}: ${reason}`);
  };
  if (!env.REDIS_SENTINELS) stray(['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'], 'only used with REDIS_SENTINELS');
  if (env.REDIS_URL) stray(['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'], 'REDIS_URL carries its own credentials and TLS (rediss://user:password@host:port)');
  else if (chosen.length === 0) {
    stray(['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'], 'set REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS too');
  }
  if (problems.length || chosen.length === 0) return { problems };

  const access: RedisAccess = { username: env.REDIS_USERNAME, password: env.REDIS_PASSWORD, tls: env.REDIS_TLS ?? false };
  const topology: RedisTopology = env.REDIS_URL
    ? { kind: 'standalone', url: env.REDIS_URL }
    : env.REDIS_CLUSTER_NODES
      ? { kind: 'cluster', nodes: env.REDIS_CLUSTER_NODES, ...access }
      : {
        kind: 'sentinel',
        sentinels: env.REDIS_SENTINELS!,
        name: env.REDIS_SENTINEL_NAME!,
        sentinelUsername: env.REDIS_SENTINEL_USERNAME,
        sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
        ...access,
      };
  return {
    redis: { topology, prefix: env.REDIS_PREFIX, waitReplicas: env.REDIS_WAIT_REPLICAS, waitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS },
    problems,
  };
}
