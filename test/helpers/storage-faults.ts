import { expect } from 'chai';
import { StorageUnavailable } from '../../adapters/errors.js';
import type { Stores } from '../../adapters/stores.js';
import { requireRedis, uniquePrefix } from './redis.js';
import { startTestServer, type TestServer } from './server.js';

/**
 * How one storage call fails, with the errors ioredis gives (adapters/redis/client.ts tells them apart):
 * - refused: never sent (no connection), so it surely did not run;
 * - lost: it ran, and its reply never came (a timeout);
 * - unanswered: it timed out without running (the app cannot tell this from lost);
 * - a function: runs first with the call's arguments (say, stops a real Redis), then the call goes on, and fails
 *   as it really does, or not at all.
 */
export type Failure = 'refused' | 'lost' | 'unanswered' | ((...args: unknown[]) => Promise<void>);

const refused = () => new StorageUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
const timedOut = () => new StorageUnavailable(new Error('Command timed out'));

/**
 * Storage that fails at exact points: pass `wrap` as the test server's wrapStores, then arm the next call of a
 * point, named "<Model>.<method>" for the provider's models (RefreshToken.upsert) or "<store>.<method>" for the
 * app's own stores (consents.remember).
 */
export class StorageFaults {
  private readonly armed = new Map<string, Failure>();
  private outageAfter: string | undefined;
  private down = false;

  failNext(point: string, how: Failure): void {
    this.armed.set(point, how);
  }

  /** Storage goes away once the next call of `point` has run: every call after it is refused until `restore()`. */
  goDownAfter(point: string): void {
    this.outageAfter = point;
  }

  restore(): void {
    this.down = false;
  }

  /** Points armed and not reached yet: a test whose fault never fired proved nothing. */
  unfired(): string[] {
    const left = [...this.armed.keys(), ...(this.outageAfter ? [`outage after ${this.outageAfter}`] : [])];
    this.armed.clear();
    this.outageAfter = undefined;
    this.down = false;
    return left;
  }

  readonly wrap = (stores: Stores): Stores => ({
    ...stores,
    accounts: this.faulty(stores.accounts, 'accounts'),
    consents: this.faulty(stores.consents, 'consents'),
    oidc: { ...stores.oidc, factory: (name) => this.faulty(stores.oidc.factory(name), name) },
  });

  private faulty<T extends object>(target: T, label: string): T {
    return new Proxy(target, {
      get: (object, property) => {
        const value: unknown = Reflect.get(object, property);
        if (typeof value !== 'function') return value;
        const point = `${label}.${String(property)}`;
        return (...args: unknown[]) => this.call(point, args, () => value.apply(object, args) as Promise<unknown>);
      },
    });
  }

  private async call(point: string, args: unknown[], run: () => Promise<unknown>): Promise<unknown> {
    if (this.down) throw refused();
    if (point === this.outageAfter) {
      this.outageAfter = undefined;
      const result = await run();
      this.down = true;
      return result;
    }
    const how = this.armed.get(point);
    if (!how) return run();
    this.armed.delete(point);
    if (typeof how === 'function') {
      await how(...args);
      return run();
    }
    if (how === 'refused') throw refused();
    if (how === 'lost') await run();
    throw timedOut();
  }
}

/**
 * A test server on `backend` for the tests of the enclosing `describe`, whose storage `faults` fails at the points
 * a test arms; after each test, every armed fault must have fired. `server` and `url` are set once `before` has run.
 */
export function useFaultyServer(backend: 'memory' | 'redis', env: Record<string, string> = {}) {
  const redis = backend === 'redis' ? requireRedis() : undefined;
  const faults = new StorageFaults();
  const used = { faults, server: undefined as unknown as TestServer, url: '' };
  before(async () => {
    const storage: Record<string, string> = redis ? { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix() } : {};
    used.server = await startTestServer({ ...env, ...storage }, { wrapStores: faults.wrap });
    used.url = used.server.url;
  });
  after(async () => {
    await used.server?.close();
  });
  afterEach(() => {
    expect(faults.unfired(), 'faults armed that never fired').to.deep.equal([]);
  });
  return used;
}
