import { Cluster, type Redis } from 'ioredis';
import type { Logger } from '../../src/log.js';
import type { RedisClient } from './client.js';

/** Whether storage answers: the one server, or every master of a cluster (each holds a share of the keys). */
export async function pingAll(redis: RedisClient): Promise<boolean> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  if (nodes.length === 0) return false;
  const answers = await Promise.all(nodes.map((node) => node.ping().catch(() => undefined)));
  return answers.every((answer) => answer === 'PONG');
}

const RECHECK_MS = 500;

/**
 * Logs an outage once when it starts and once when it ends. It starts with the first sign of one: a connection
 * lost or refused, and on a cluster a node failing (not a node leaving the client's pool: replicas leave it at every
 * start, the client sending nothing to them). It ends when `ping` answers again, which on a
 * cluster means every master, so that a shard whose failover is still under way is not called back; it is asked
 * when the client reconnects, and every RECHECK_MS meanwhile.
 * Returns the function that stops watching (at shutdown, when connections close on purpose).
 */
export function watchOutages(redis: RedisClient, where: string, ping: () => Promise<boolean>, log: Logger): () => void {
  let down = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(check, RECHECK_MS).unref();
  };
  const check = async () => {
    if (!down || stopped) return;
    const answers = await ping().catch(() => false);
    if (!down) return; // another check saw it first
    if (!answers) {
      later();
      return;
    }
    down = false;
    log.info(`${where} is reachable again`);
  };
  const wentDown = (reason: string) => {
    if (down || stopped) return;
    down = true;
    log.warn(`${where} is unreachable (${reason}); retrying`);
    later();
  };
  // A client that reconnects says so: no need to wait for the next check.
  redis.on('ready', () => void check());
  redis.on('close', () => wentDown('connection closed'));
  redis.on('error', (err: Error) => wentDown(err.message));
  if (redis instanceof Cluster) {
    redis.on('node error', (err: Error, node: string) => wentDown(`node ${node}: ${err.message}`));
  }
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * A REDIS_URL that names a cluster node or a sentinel connects fine and then fails at the first command (MOVED for
 * the keys other masters own, "unknown command" on a sentinel): say so at start, with the variables to set instead.
 */
export async function refuseOtherTopologies(redis: Redis): Promise<void> {
  const mode = /^redis_mode:(\w+)/m.exec(await redis.info('server'))?.[1];
  if (mode === 'cluster') {
    throw new Error('REDIS_URL names a node of a Redis Cluster, which spreads keys over its masters: set REDIS_CLUSTER_NODES instead');
  }
  if (mode === 'sentinel') {
    throw new Error('REDIS_URL names a Redis Sentinel, which stores nothing: set REDIS_SENTINELS and REDIS_SENTINEL_NAME instead');
  }
}
