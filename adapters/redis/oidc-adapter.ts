import type { Result } from 'ioredis';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import { alreadyConsumed } from '../errors.js';
import { retentionMs } from '../expiry.js';
import type { OidcStorage } from '../stores.js';
import { guarded, type RedisClient } from './client.js';
import { DurableWrites } from './durable-writes.js';

/*
 * Layout, under the configured prefix P:
 *   P<Model>:{<id>}            hash: payload (JSON) and, once consumed, consumed (epoch seconds)
 *   P<Model>:uid:{<uid>}       the id of the record with this uid (Session)
 *   P<Model>:userCode:{<code>} the id of the record with this user code (DeviceCode)
 *   Pgrant:{<grantId>}         sorted set of "<Model>:<id>" members, scored by their expiry (ms)
 * Every script touches one key, and the part in braces is the cluster hash tag, so the layout works on Redis
 * Cluster. Where an operation spans keys, the order makes a crash half-way harmless: indexes are written
 * before their record (an index entry without a record finds nothing) and removed after it.
 * The records a user would miss after a failover (grants, refresh tokens, registered clients and their tokens) are
 * written, consumed and removed through DurableWrites, their grant index entries too (a revocation must find them).
 */

declare module 'ioredis' {
  interface RedisCommander<Context> {
    oidcReplace(key: string, retentionMs: number, ...fieldsAndValues: string[]): Result<number, Context>;
    oidcConsume(key: string, at: string): Result<number, Context>;
    oidcIndexGrant(key: string, member: string, expiresAt: string, now: string): Result<number, Context>;
  }
}

/*
 * A Redis at its maxmemory (noeviction) refuses a script at its first command that may take memory, unless the script
 * has written something already: each script below that stores something starts with such a command (HSET, ZADD),
 * or a full Redis would go on taking new records.
 */
const SCRIPTS = {
  // Replaces the whole record: its fields are written, then any other field of an earlier version (a stale
  // `consumed`) and an expiry it no longer has are removed.
  oidcReplace: `
    redis.call('HSET', KEYS[1], unpack(ARGV, 2))
    local fields = {}
    for i = 2, #ARGV, 2 do fields[ARGV[i]] = true end
    for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
      if not fields[field] then redis.call('HDEL', KEYS[1], field) end
    end
    if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) else redis.call('PERSIST', KEYS[1]) end
    return 1`,
  // 1: consumed now; 0: somebody consumed it first; -1: the record is gone. Never creates a record.
  oidcConsume: `
    if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
    return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])`,
  // Adds a member (live: it is not pruned), prunes the members that expired, and lets the index expire with its
  // longest-lived member.
  oidcIndexGrant: `
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
    local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
    if last == 'inf' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIREAT', KEYS[1], last) end
    return 1`,
} as const;

class Keys {
  constructor(private readonly prefix: string) {}
  record = (model: string, id: string) => `${this.prefix}${model}:{${id}}`;
  uid = (model: string, uid: string) => `${this.prefix}${model}:uid:{${uid}}`;
  userCode = (model: string, code: string) => `${this.prefix}${model}:userCode:{${code}}`;
  grant = (grantId: string) => `${this.prefix}grant:{${grantId}}`;
}

const DURABLE_MODELS = new Set(['Grant', 'RefreshToken', 'Client', 'RegistrationAccessToken']);

/** What every adapter of one storage shares. */
class Context {
  private readonly plain: DurableWrites;

  constructor(readonly redis: RedisClient, readonly keys: Keys, private readonly durable: DurableWrites) {
    this.plain = new DurableWrites(redis);
  }

  /** How a model's records are written: replicated first for those that must survive a failover. */
  writes(model: string): DurableWrites {
    return DURABLE_MODELS.has(model) ? this.durable : this.plain;
  }
}

/** Removes one record and then its indexes (see the layout above for why in that order). */
async function destroyRecord(context: Context, model: string, id: string): Promise<void> {
  const { redis, keys } = context;
  const key = keys.record(model, id);
  const raw = await redis.hget(key, 'payload');
  await context.writes(model).run((p) => p.del(key));
  if (!raw) return;
  const { uid, userCode, grantId } = JSON.parse(raw) as AdapterPayload;
  await Promise.all([
    uid && redis.del(keys.uid(model, uid)),
    userCode && redis.del(keys.userCode(model, userCode)),
    grantId && redis.zrem(keys.grant(grantId), `${model}:${id}`),
  ]);
}

class RedisOidcAdapter implements Adapter {
  private readonly redis: RedisClient;
  private readonly keys: Keys;
  private readonly writes: DurableWrites;

  constructor(private readonly name: string, private readonly context: Context) {
    this.redis = context.redis;
    this.keys = context.keys;
    this.writes = context.writes(name);
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    return guarded(async () => {
      const keepMs = retentionMs(expiresIn);
      const now = Date.now();
      const { uid, userCode, grantId } = payload;
      const pointer = (key: string) => this.writes.run((p) => (keepMs ? p.set(key, id, 'PX', keepMs) : p.set(key, id)));
      await Promise.all([
        uid && pointer(this.keys.uid(this.name, uid)),
        userCode && pointer(this.keys.userCode(this.name, userCode)),
        grantId && this.writes.run((p) => p.oidcIndexGrant(
          this.keys.grant(grantId), `${this.name}:${id}`, keepMs ? String(now + keepMs) : '+inf', String(now),
        )),
      ]);
      const fields = ['payload', JSON.stringify(payload)];
      if (payload.consumed) fields.push('consumed', String(payload.consumed));
      await this.writes.run((p) => p.oidcReplace(this.keys.record(this.name, id), keepMs ?? 0, ...fields));
    });
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return guarded(async () => {
      const [raw, consumed] = await this.redis.hmget(this.keys.record(this.name, id), 'payload', 'consumed');
      if (!raw) return undefined;
      const payload = JSON.parse(raw) as AdapterPayload;
      if (consumed) payload.consumed = Number(consumed);
      return payload;
    });
  }

  /** A pointer left by an earlier version of the record (or a crash) must not find it: the record decides. */
  private findByPointer(key: string, field: 'uid' | 'userCode', value: string): Promise<AdapterPayload | undefined> {
    return guarded(async () => {
      const id = await this.redis.get(key);
      const payload = id ? await this.find(id) : undefined;
      return payload?.[field] === value ? payload : undefined;
    });
  }

  findByUid(uid: string) {
    return this.findByPointer(this.keys.uid(this.name, uid), 'uid', uid);
  }

  findByUserCode(userCode: string) {
    return this.findByPointer(this.keys.userCode(this.name, userCode), 'userCode', userCode);
  }

  consume(id: string): Promise<void> {
    return guarded(async () => {
      const [result] = await this.writes.run((p) => p.oidcConsume(this.keys.record(this.name, id), String(Math.floor(Date.now() / 1000))));
      if (result !== 1) throw alreadyConsumed();
    });
  }

  destroy(id: string): Promise<void> {
    return guarded(() => destroyRecord(this.context, this.name, id));
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return guarded(async () => {
      const index = this.keys.grant(grantId);
      const members = await this.redis.zrange(index, '0', '-1');
      await Promise.all(members.map((member) => {
        const at = member.indexOf(':');
        return destroyRecord(this.context, member.slice(0, at), member.slice(at + 1));
      }));
      await this.redis.del(index);
    });
  }
}

export function redisOidcStorage(redis: RedisClient, prefix: string, durable = new DurableWrites(redis)): OidcStorage {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua });
  const context = new Context(redis, new Keys(prefix), durable);
  return { factory: (name) => new RedisOidcAdapter(name, context), close: () => {} };
}
