import type { Result } from 'ioredis';
import { TTL } from '../../config/provider.js';
import type { Consent, ConsentStore } from '../stores.js';
import { guarded, type RedisClient } from './client.js';
import { DurableWrites } from './durable-writes.js';

/* P consents:{<accountId>}   hash: client id → JSON Consent; it expires with the consent that ends last.
 * Consents written before they carried expiresAt and client end TTL.Grant after their grantedAt, which their grant
 * (made at or before then) cannot outlive, and are named by their client id. */

declare module 'ioredis' {
  interface RedisCommander<Context> {
    consentRemember(key: string, clientId: string, json: string, now: string, legacyLifetimeMs: string): Result<number, Context>;
  }
}

const LEGACY_LIFETIME_MS = TTL.Grant * 1000;

// Stores one consent, drops the ones that ended, and lets the hash expire with the one that ends last.
const CONSENT_REMEMBER = `
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  local now, legacy, last = tonumber(ARGV[3]), tonumber(ARGV[4]), 0
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local consent = cjson.decode(fields[i + 1])
    local ends = consent.expiresAt or (consent.grantedAt + legacy)
    if ends <= now then redis.call('HDEL', KEYS[1], fields[i]) elseif ends > last then last = ends end
  end
  if last > 0 then redis.call('PEXPIREAT', KEYS[1], string.format('%d', last)) end
  return 1`;

type Stored = Omit<Consent, 'client' | 'expiresAt'> & Partial<Pick<Consent, 'client' | 'expiresAt'>>;

function parse(json: string): Consent {
  const stored = JSON.parse(json) as Stored;
  return {
    ...stored,
    client: stored.client ?? { name: stored.clientId },
    expiresAt: stored.expiresAt ?? stored.grantedAt + LEGACY_LIFETIME_MS,
  };
}

const live = (consent: Consent | undefined) => (consent && consent.expiresAt > Date.now() ? consent : undefined);

export class RedisConsentStore implements ConsentStore {
  constructor(private readonly redis: RedisClient, private readonly prefix: string, private readonly writes = new DurableWrites(redis)) {
    redis.defineCommand('consentRemember', { numberOfKeys: 1, lua: CONSENT_REMEMBER });
  }

  private key = (accountId: string) => `${this.prefix}consents:{${accountId}}`;

  remember(accountId: string, consent: Omit<Consent, 'grantedAt'>): Promise<void> {
    return guarded(async () => {
      const now = Date.now();
      await this.writes.run((p) => p.consentRemember(this.key(accountId), consent.clientId,
        JSON.stringify({ ...consent, grantedAt: now }), String(now), String(LEGACY_LIFETIME_MS)));
    });
  }

  find(accountId: string, clientId: string): Promise<Consent | undefined> {
    return guarded(async () => {
      const json = await this.redis.hget(this.key(accountId), clientId);
      return live(json ? parse(json) : undefined);
    });
  }

  list(accountId: string): Promise<Consent[]> {
    return guarded(async () => Object.values(await this.redis.hgetall(this.key(accountId)))
      .map(parse).filter((consent) => live(consent) !== undefined));
  }

  forget(accountId: string, clientId: string): Promise<Consent | undefined> {
    return guarded(async () => {
      const consent = await this.find(accountId, clientId);
      // A consent taken back must stay taken back after a failover.
      await this.writes.run((p) => p.hdel(this.key(accountId), clientId));
      return consent;
    });
  }

  forgetAll(accountId: string): Promise<void> {
    return guarded(async () => {
      await this.writes.run((p) => p.del(this.key(accountId)));
    });
  }
}
