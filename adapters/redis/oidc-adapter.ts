import type { Result } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { alreadyConsumed } from '../errors.js';
import { retentionMs } from '../expiry.js';
import { parseMember, recordIndexes, recordPointers, stillOwned, type IndexEntry, type IndexKind, type Pointer } from '../record-indexes.js';
import type { OidcStorage, StoredRecord } from '../stores.js';
import { guarded, type RedisClient } from './client.js';
import { DurableWrites } from './durable-writes.js';
import { scanTagged } from './scan.js';

/*
 * Layout, under the configured prefix P:
 *   P<Model>:{<id>}            hash: payload (JSON) and, once consumed, consumed (epoch seconds)
 *   P<Model>:uid:{<uid>}       the id of the record with this uid (Session)
 *   P<Model>:userCode:{<code>} the id of the record with this user code (DeviceCode)
 *   Pgrant:{<grantId>}         sorted set of "<Model>:<id>" members, scored by their expiry (ms): the records
 *                              issued under the grant
 *   Paccount-records:{<accountId>}  the same, of the account's Sessions and Grants
 *   Pclient-grants:{<clientId>}     the same, of the client's Grants
 * Every script touches one key, and the part in braces is the cluster hash tag, so the layout works on Redis
 * Cluster. Where an operation spans keys, the order makes a crash half-way harmless: indexes are written
 * before their record (an index entry without a record finds nothing) and removed after it. A uid or userCode
 * pointer is removed only while it names the record removed: a later record may have taken it over.
 * The records a user would miss after a failover (grants, refresh tokens, registered clients and their tokens) are
 * written, consumed and removed through DurableWrites, their index entries too (a revocation must find them).
 */

declare module 'ioredis' {
  interface RedisCommander<Context> {
    oidcReplace(key: string, retentionMs: number, ...fieldsAndValues: string[]): Result<number, Context>;
    oidcConsume(key: string, at: string): Result<number, Context>;
    oidcIndex(key: string, member: string, expiresAt: string, now: string): Result<number, Context>;
    oidcDropPointer(key: string, id: string): Result<number, Context>;
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
  oidcIndex: `
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
    local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
    if last == 'inf' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIREAT', KEYS[1], last) end
    return 1`,
  // Deletes a pointer only if it still names this record's id (compare and delete); 1 if it did.
  oidcDropPointer: `
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
    return redis.call('DEL', KEYS[1])`,
} as const;

const INDEX_NAMES: Record<IndexKind, string> = { grant: 'grant', account: 'account-records', client: 'client-grants' };

class Keys {
  constructor(private readonly prefix: string) {}
  record = (model: string, id: string) => `${this.prefix}${model}:{${id}}`;
  pointer = (model: string, { field, value }: Pointer) => `${this.prefix}${model}:${field}:{${value}}`;
  index = (kind: IndexKind, owner: string) => `${this.prefix}${INDEX_NAMES[kind]}:{${owner}}`;
  grant = (grantId: string) => this.index('grant', grantId);
  modelStart = (model: string) => `${this.prefix}${model}:`;
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
  const payload = JSON.parse(raw) as AdapterPayload;
  await Promise.all([
    ...recordPointers(payload).map((pointer) => redis.oidcDropPointer(keys.pointer(model, pointer), id)),
    ...recordIndexes(model, id, payload).map((entry) => redis.zrem(keys.index(entry.kind, entry.owner), entry.member)),
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
      const pointer = (key: string) => this.writes.run((p) => (keepMs ? p.set(key, id, 'PX', keepMs) : p.set(key, id)));
      const index = ({ kind, owner, member }: IndexEntry) => this.writes.run((p) => p.oidcIndex(
        this.keys.index(kind, owner), member, keepMs ? String(now + keepMs) : '+inf', String(now),
      ));
      await Promise.all([
        ...recordPointers(payload).map((value) => pointer(this.keys.pointer(this.name, value))),
        ...recordIndexes(this.name, id, payload).map(index),
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
  private findByPointer(pointer: Pointer): Promise<AdapterPayload | undefined> {
    return guarded(async () => {
      const id = await this.redis.get(this.keys.pointer(this.name, pointer));
      const payload = id ? await this.find(id) : undefined;
      return payload?.[pointer.field] === pointer.value ? payload : undefined;
    });
  }

  findByUid(uid: string) {
    return this.findByPointer({ field: 'uid', value: uid });
  }

  findByUserCode(userCode: string) {
    return this.findByPointer({ field: 'userCode', value: userCode });
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
        const { model, id } = parseMember(member);
        return destroyRecord(this.context, model, id);
      }));
      await this.redis.del(index);
    });
  }
}

/** The live records an account or client index lists that still belong to its owner. */
function owned(context: Context, kind: 'account' | 'client', owner: string): Promise<StoredRecord[]> {
  return guarded(async () => {
    const { redis, keys } = context;
    const members = await redis.zrangebyscore(keys.index(kind, owner), `(${Date.now()}`, '+inf');
    const records = await Promise.all(members.map(async (member) => {
      const { model, id } = parseMember(member);
      const raw = await redis.hget(keys.record(model, id), 'payload');
      const payload = raw ? JSON.parse(raw) as AdapterPayload : undefined;
      return stillOwned(kind, owner, payload) ? { model, id, payload: payload! } : undefined;
    }));
    return records.filter((record) => record !== undefined);
  });
}

/**
 * For each model, the live record in the grant's index that expires last: the index is scored by expiry, so the first
 * member of each model from the top. A member whose record is gone, or names another grant, is passed over.
 */
function newestOfGrant(context: Context, grantId: string, models: readonly string[]): Promise<StoredRecord[]> {
  return guarded(async () => {
    const { redis, keys } = context;
    const found = new Map<string, StoredRecord>();
    for (const member of await redis.zrevrangebyscore(keys.grant(grantId), '+inf', `(${Date.now()}`)) {
      const { model, id } = parseMember(member);
      if (!models.includes(model) || found.has(model)) continue;
      const raw = await redis.hget(keys.record(model, id), 'payload');
      const payload = raw ? JSON.parse(raw) as AdapterPayload : undefined;
      if (payload?.grantId === grantId) found.set(model, { model, id, payload });
      if (found.size === models.length) break;
    }
    return [...found.values()];
  });
}

export function redisOidcStorage(redis: RedisClient, prefix: string, durable = new DurableWrites(redis)): OidcStorage {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua });
  const keys = new Keys(prefix);
  const context = new Context(redis, keys, durable);
  return {
    factory: (name) => new RedisOidcAdapter(name, context),
    ofAccount: (accountId) => owned(context, 'account', accountId),
    grantsOfClient: (clientId) => owned(context, 'client', clientId),
    newestOfGrant: (grantId, models) => newestOfGrant(context, grantId, models),
    ids: (model) => guarded(() => scanTagged(redis, keys.modelStart(model))),
    close: () => {},
  };
}
