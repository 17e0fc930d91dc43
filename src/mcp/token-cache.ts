import type { AuthInfo } from '@modelcontextprotocol/server';
import type { InvalidationBus } from '../../adapters/stores.js';

interface Entry {
  auth: AuthInfo;
  grantId: string;
  /** Epoch ms: the token's expiry or the cache's maximum age, whichever comes first. */
  until: number;
}

/**
 * Validated bearer tokens, so /mcp does not pay three storage lookups per call. Revocation still takes effect
 * at once: the invalidation bus drops a destroyed token or every token of a revoked grant, on every instance.
 * The maximum age bounds the damage if a message were ever lost, and a reconnect of the bus clears everything.
 * A lookup that raced with an invalidation is not cached (see `epoch`), so a token revoked while it was being
 * checked cannot come back from the cache.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byGrant = new Map<string, Set<string>>();
  /** Bumped by every invalidation; a lookup caches its result only if no invalidation came in meanwhile. */
  private generation = 0;

  constructor(bus: InvalidationBus, private readonly maxAgeMs = 30_000, private readonly maxEntries = 50_000) {
    bus.subscribe((invalidation) => {
      this.generation++;
      if ('token' in invalidation) this.dropToken(invalidation.token);
      else this.dropGrant(invalidation.grant);
    }, () => this.clear());
  }

  /** Read before a lookup; pass to set() after it. */
  get epoch(): number {
    return this.generation;
  }

  get(token: string): AuthInfo | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.auth;
    this.dropToken(token);
    return undefined;
  }

  set(token: string, grantId: string, auth: AuthInfo, expiresAtMs: number, epoch: number): void {
    if (epoch !== this.generation) return;
    if (this.entries.size >= this.maxEntries) this.dropToken(this.entries.keys().next().value!);
    this.entries.set(token, { auth, grantId, until: Math.min(expiresAtMs, Date.now() + this.maxAgeMs) });
    let tokens = this.byGrant.get(grantId);
    if (!tokens) this.byGrant.set(grantId, (tokens = new Set()));
    tokens.add(token);
  }

  get size(): number {
    return this.entries.size;
  }

  private dropToken(token: string): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    this.entries.delete(token);
    const siblings = this.byGrant.get(entry.grantId);
    siblings?.delete(token);
    if (siblings?.size === 0) this.byGrant.delete(entry.grantId);
  }

  private dropGrant(grantId: string): void {
    for (const token of this.byGrant.get(grantId) ?? []) this.entries.delete(token);
    this.byGrant.delete(grantId);
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
    this.byGrant.clear();
  }
}
