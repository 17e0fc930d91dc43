import type { Adapter, AdapterPayload } from 'oidc-provider';
import { alreadyConsumed } from '../errors.js';
import { retentionMs } from '../expiry.js';
import type { OidcStorage } from '../stores.js';

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds; Infinity when stored without an expiry. */
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;
const now = () => Date.now();

/**
 * The provider's models in one process's memory, with the same contract as the Redis adapter: payloads are
 * copied in and out, consume is atomic, and grant, uid and userCode indexes go away with their records.
 */
class MemoryState {
  readonly records = new Map<string, Entry>();
  readonly indexes = new Map<string, { id: string; expiresAt: number }>();
  readonly grants = new Map<string, Map<string, number>>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  live(key: string): Entry | undefined {
    const entry = this.records.get(key);
    if (entry && entry.expiresAt <= now()) {
      this.remove(key);
      return undefined;
    }
    return entry;
  }

  remove(key: string): void {
    const entry = this.records.get(key);
    if (!entry) return;
    this.records.delete(key);
    const name = key.slice(0, key.indexOf(':'));
    const { uid, userCode, grantId } = entry.payload;
    if (uid) this.indexes.delete(`${name}:uid:${uid}`);
    if (userCode) this.indexes.delete(`${name}:userCode:${userCode}`);
    if (grantId) this.grants.get(grantId)?.delete(key);
  }

  sweep(): void {
    const t = now();
    for (const [key, entry] of this.records) if (entry.expiresAt <= t) this.remove(key);
    for (const [key, index] of this.indexes) if (index.expiresAt <= t) this.indexes.delete(key);
    for (const [grantId, members] of this.grants) {
      for (const [key, expiresAt] of members) if (expiresAt <= t) members.delete(key);
      if (!members.size) this.grants.delete(grantId);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

class MemoryOidcAdapter implements Adapter {
  constructor(private readonly name: string, private readonly state: MemoryState) {}

  private key(id: string) {
    return `${this.name}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const keepMs = retentionMs(expiresIn);
    const expiresAt = keepMs ? now() + keepMs : Infinity;
    const { uid, userCode, grantId } = payload;
    this.state.remove(key);
    this.state.records.set(key, { payload: structuredClone(payload), expiresAt });
    if (uid) this.state.indexes.set(`${this.name}:uid:${uid}`, { id, expiresAt });
    if (userCode) this.state.indexes.set(`${this.name}:userCode:${userCode}`, { id, expiresAt });
    if (grantId) {
      let members = this.state.grants.get(grantId);
      if (!members) this.state.grants.set(grantId, (members = new Map()));
      members.set(key, expiresAt);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = this.state.live(this.key(id));
    return entry && structuredClone(entry.payload);
  }

  private async findByIndex(index: string): Promise<AdapterPayload | undefined> {
    const hit = this.state.indexes.get(index);
    return hit && hit.expiresAt > now() ? this.find(hit.id) : undefined;
  }

  findByUid(uid: string) {
    return this.findByIndex(`${this.name}:uid:${uid}`);
  }

  findByUserCode(userCode: string) {
    return this.findByIndex(`${this.name}:userCode:${userCode}`);
  }

  async consume(id: string): Promise<void> {
    const entry = this.state.live(this.key(id));
    if (!entry || entry.payload.consumed) throw alreadyConsumed();
    entry.payload.consumed = Math.floor(now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.state.remove(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const members = this.state.grants.get(grantId);
    if (!members) return;
    for (const key of [...members.keys()]) this.state.remove(key);
    this.state.grants.delete(grantId);
  }
}

export function memoryOidcStorage(): OidcStorage {
  const state = new MemoryState();
  return { factory: (name) => new MemoryOidcAdapter(name, state), close: () => state.close() };
}
