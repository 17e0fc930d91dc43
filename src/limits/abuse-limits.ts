import { usernameKey, type Limiter, type LimiterFactory } from '../../adapters/stores.js';
import { ABUSE_LIMITS, type AbuseLimitName, type LimitName } from '../../config/abuse-limits.js';
import type { Config } from '../../config/env.js';
import { Problem } from '../http/problem.js';
import { networkKey } from '../http/client-network.js';

export type { LimitName };

const tooMany = (what: string, seconds: number) =>
  new Problem(429, 'too_many_requests', `too many ${what}; try again in ${seconds} seconds`, seconds);

/**
 * The limits of config/abuse-limits.ts, counted. While a count is over its limit, the attempt is refused before it
 * is tried (a login before its password is checked, a client request before the client is authenticated, a device
 * code before it is looked up), and a later success resets nothing. Each refusal is reported to `onRefused`, for the
 * metrics.
 *
 * Every attempt is counted as it starts, atomically, and given back when it turns out to have succeeded: a
 * check made before counting would let a burst of concurrent guesses all through. So an attempt in flight
 * counts until it is answered.
 */
export class AbuseLimits {
  private readonly limiters: Partial<Record<AbuseLimitName, Limiter>> = {};

  constructor(settings: Config['limits'], limiter: LimiterFactory, private readonly onRefused: (limit: LimitName) => void = () => {}) {
    for (const [name, limit] of Object.entries(ABUSE_LIMITS) as [AbuseLimitName, (typeof ABUSE_LIMITS)[AbuseLimitName]][]) {
      const attempts = settings[limit.setting];
      if (attempts > 0) this.limiters[name] = limiter(limit.storageKey, attempts, limit.windowSeconds);
    }
  }

  /**
   * Runs one login attempt: throws 429 before `attempt` runs while the username or the address has failed too
   * often. The attempt counts as a failure unless it returns an account.
   */
  async login<T>(username: string, ip: string, attempt: () => Promise<T | undefined>): Promise<T | undefined> {
    // The address first: an address over its limit must not leave a counter behind for every name it makes up.
    const counted: Counted = [['failedLoginsPerNetwork', networkKey(ip)], ['failedLoginsPerUsername', usernameKey(username)]];
    await this.takeAll(counted);
    const account = await attempt();
    if (account !== undefined) await this.giveBackAll(counted);
    return account;
  }

  /** Counts this registration, or throws 429 when the address has made too many. */
  beforeRegistration(ip: string): Promise<void> {
    return this.takeAll([['registrations', networkKey(ip)]]);
  }

  /** Counts a client registration from this address: 0 when it may go on, else the seconds to wait (not counted). */
  clientRegistration(ip: string): Promise<number> {
    return this.count('clientRegistrations', networkKey(ip));
  }

  /**
   * Counts a request that authenticates as this client from this address: 0 when it may go on, else the
   * seconds to wait (the request is then refused, and not counted). See clientRequestPassed.
   */
  clientRequest(clientId: string, ip: string): Promise<number> {
    return this.count('failedClientRequests', clientAndNetwork(clientId, ip));
  }

  /** Uncounts a request counted by clientRequest that did not end in a failure that counts. */
  async clientRequestPassed(clientId: string, ip: string): Promise<void> {
    await this.limiters.failedClientRequests?.giveBack(clientAndNetwork(clientId, ip));
  }

  /**
   * Counts a user code entered on the device page from this address: 0 when it may be looked up, else the seconds
   * to wait (the entry is then refused, and not counted). See deviceCodeFound.
   */
  deviceCodeEntry(ip: string): Promise<number> {
    return this.count('wrongDeviceCodes', networkKey(ip));
  }

  /** Uncounts an entry counted by deviceCodeEntry whose code exists: a code typed right is no guess. */
  async deviceCodeFound(ip: string): Promise<void> {
    await this.limiters.wrongDeviceCodes?.giveBack(networkKey(ip));
  }

  /**
   * Counts a record stored for nobody signed in at this address's request: 0 when it may be stored, else the seconds
   * to wait (not counted).
   */
  anonymousRecord(ip: string): Promise<number> {
    return this.count('anonymousRecords', networkKey(ip));
  }

  /** Counts one attempt against `key`: 0 when it may go on, else the seconds to wait (reported, and not counted). */
  private async count(name: AbuseLimitName, key: string): Promise<number> {
    const wait = (await this.limiters[name]?.take(key)) ?? 0;
    if (wait) this.onRefused(ABUSE_LIMITS[name].metric);
    return wait;
  }

  /**
   * Counts one attempt against each key in turn, or, at the first key over its limit, gives back what it took and
   * throws 429: a refused attempt counts nowhere, and writes nothing past the key that refused it.
   */
  private async takeAll(counted: Counted): Promise<void> {
    const taken: Counted = [];
    try {
      for (const [name, key] of counted) {
        const wait = await this.count(name, key);
        if (wait) throw tooMany(ABUSE_LIMITS[name].counts, wait);
        taken.push([name, key]);
      }
    } catch (err) {
      await this.giveBackAll(taken);
      throw err;
    }
  }

  private async giveBackAll(counted: Counted): Promise<void> {
    await Promise.all(counted.map(([name, key]) => this.limiters[name]?.giveBack(key)));
  }
}

type Counted = [AbuseLimitName, string][];

// A space occurs in no network key, so no two pairs share a key.
const clientAndNetwork = (clientId: string, ip: string) => `${networkKey(ip)} ${clientId}`;
