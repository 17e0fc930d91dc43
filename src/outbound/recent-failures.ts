/**
 * Failed outbound fetches, remembered for a short while so that a URL that fails cannot be used to make the server
 * hit (or resolve) the same target again and again: within `ttlMs` the failure is repeated without a request.
 * Bounded: past `max` entries the oldest is forgotten first, so unique failing URLs cannot grow it without end.
 */
export class RecentFailures<T> {
  readonly #entries = new Map<string, { value: T; until: number }>();

  constructor(private readonly ttlMs: number, private readonly max = 1000, private readonly now = Date.now) {}

  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: T): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, until: this.now() + this.ttlMs });
  }
}
