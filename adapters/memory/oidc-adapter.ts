import type { Adapter, AdapterPayload } from 'oidc-provider';
import { alreadyConsumed } from '../errors.js';
import { retentionMs } from '../expiry.js';
import { memberOf, parseMember, recordIndexes, recordPointers, stillOwned, type IndexKind, type Pointer } from '../record-indexes.js';
import type { OidcStorage, StoredRecord } from '../stores.js';

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds; Infinity when stored without an expiry. */
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;
const now = () => Date.now();

const indexKey = (kind: IndexKind, owner: string) => `${kind}:${owner}`;
const pointerKey = (model: string, { field, value }: Pointer) => `${model}:${field}:${value}`;

/**
 * The provider's models in one process's memory, with the same contract as the Redis adapter: payloads are
 * copied in and out, consume is atomic, and the grant, account and client indexes go away with their records, the
 * uid and userCode pointers too unless a later record took them over (adapters/record-indexes.ts).
 */
class MemoryState {
  readonly records = new Map<string, Entry>();
  /** Pointer key ("<Model>:uid:<uid>", "<Model>:userCode:<code>") → the id of the record it names. */
  readonly pointers = new Map<string, { id: string; expiresAt: number }>();
  /** Index key → its members ("<Model>:<id>", the key of the record in `records`) and their expiry. */
  readonly members = new Map<string, Map<string, number>>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  live(key: string): Entry | undefined {
    const entry = this.records.get(key);
    if (entry && entry.expiresAt <= now()) {
      this.remove(key);
      return undefined;
    }
    return entry;
  }

  add(model: string, id: string, entry: Entry): void {
    const key = memberOf(model, id);
    this.remove(key);
    this.records.set(key, entry);
    for (const pointer of recordPointers(entry.payload)) this.pointers.set(pointerKey(model, pointer), { id, expiresAt: entry.expiresAt });
    for (const { kind, owner, member } of recordIndexes(model, id, entry.payload)) {
      let members = this.members.get(indexKey(kind, owner));
      if (!members) this.members.set(indexKey(kind, owner), (members = new Map()));
      members.set(member, entry.expiresAt);
    }
  }

  remove(key: string): void {
    const entry = this.records.get(key);
    if (!entry) return;
    this.records.delete(key);
    const { model, id } = parseMember(key);
    for (const pointer of recordPointers(entry.payload)) {
      const key = pointerKey(model, pointer);
      if (this.pointers.get(key)?.id === id) this.pointers.delete(key);
    }
    for (const { kind, owner, member } of recordIndexes(model, id, entry.payload)) {
      const members = this.members.get(indexKey(kind, owner));
      members?.delete(member);
      if (members?.size === 0) this.members.delete(indexKey(kind, owner));
    }
  }

  /** The keys of the live records an index lists. */
  listed(kind: IndexKind, owner: string): string[] {
    return [...this.members.get(indexKey(kind, owner))?.keys() ?? []].filter((key) => this.live(key));
  }

  /** The live records an account or client index lists that still belong to its owner. */
  owned(kind: 'account' | 'client', owner: string): StoredRecord[] {
    return this.listed(kind, owner).flatMap((key) => {
      const payload = this.records.get(key)!.payload;
      return stillOwned(kind, owner, payload) ? [{ ...parseMember(key), payload: structuredClone(payload) }] : [];
    });
  }

  /** For each model, the live record in the grant's index that expires last. */
  newestOfGrant(grantId: string, models: readonly string[]): StoredRecord[] {
    const newest = new Map<string, { key: string; expiresAt: number }>();
    for (const [key, expiresAt] of [...this.members.get(indexKey('grant', grantId)) ?? []]) {
      const { model } = parseMember(key);
      if (!models.includes(model) || !this.live(key) || this.records.get(key)!.payload.grantId !== grantId) continue;
      if (expiresAt > (newest.get(model)?.expiresAt ?? -Infinity)) newest.set(model, { key, expiresAt });
    }
    return [...newest.values()].map(({ key }) => ({ ...parseMember(key), payload: structuredClone(this.records.get(key)!.payload) }));
  }

  ids(model: string): string[] {
    return [...this.records.keys()].filter((key) => key.startsWith(`${model}:`) && this.live(key)).map((key) => parseMember(key).id);
  }

  sweep(): void {
    const t = now();
    for (const [key, entry] of this.records) if (entry.expiresAt <= t) this.remove(key);
    for (const [key, pointer] of this.pointers) if (pointer.expiresAt <= t) this.pointers.delete(key);
    for (const [key, members] of this.members) {
      for (const [member, expiresAt] of members) if (expiresAt <= t) members.delete(member);
      if (!members.size) this.members.delete(key);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

class MemoryOidcAdapter implements Adapter {
  constructor(private readonly name: string, private readonly state: MemoryState) {}

  private key(id: string) {
    return memberOf(this.name, id);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const keepMs = retentionMs(expiresIn);
    this.state.add(this.name, id, { payload: structuredClone(payload), expiresAt: keepMs ? now() + keepMs : Infinity });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = this.state.live(this.key(id));
    return entry && structuredClone(entry.payload);
  }

  private async findByPointer(pointer: Pointer): Promise<AdapterPayload | undefined> {
    const hit = this.state.pointers.get(pointerKey(this.name, pointer));
    return hit && hit.expiresAt > now() ? this.find(hit.id) : undefined;
  }

  findByUid(uid: string) {
    return this.findByPointer({ field: 'uid', value: uid });
  }

  findByUserCode(userCode: string) {
    return this.findByPointer({ field: 'userCode', value: userCode });
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
    for (const key of [...this.state.members.get(indexKey('grant', grantId))?.keys() ?? []]) this.state.remove(key);
    this.state.members.delete(indexKey('grant', grantId));
  }
}

export function memoryOidcStorage(): OidcStorage {
  const state = new MemoryState();
  return {
    factory: (name) => new MemoryOidcAdapter(name, state),
    ofAccount: async (accountId) => state.owned('account', accountId),
    grantsOfClient: async (clientId) => state.owned('client', clientId),
    newestOfGrant: async (grantId, models) => state.newestOfGrant(grantId, models),
    ids: async (model) => state.ids(model),
    close: () => state.close(),
  };
}
