import { Cluster } from 'ioredis';
import type { RedisClient } from './client.js';

/** A SCAN pattern that matches `text` literally. */
export const literally = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Every key that matches `pattern`, from every primary of a cluster. It walks the whole keyspace in batches, which
 * no request path can afford: for operators' commands only.
 */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  // SCAN may return a key twice (the keyspace can grow while it walks).
  const keys = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      for (const key of batch) keys.add(key);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...keys];
}

/** The part of keys of the form `<start>{<part>}` between the braces. */
export async function scanTagged(redis: RedisClient, start: string): Promise<string[]> {
  const keys = await scanKeys(redis, `${literally(start)}{*}`);
  return keys.map((key) => key.slice(start.length + 1, -1));
}
