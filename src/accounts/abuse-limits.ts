import { usernameKey, type Limiter, type LimiterFactory } from '../../adapters/stores.js';
import type { Config } from '../../config/env.js';
import { Problem } from '../http/problem.js';
import { networkKey } from './network.js';

const LOGIN_WINDOW_SECONDS = 15 * 60;
const REGISTRATION_WINDOW_SECONDS = 60 * 60;
const CLIENT_FAILURE_WINDOW_SECONDS = 15 * 60;
const DEVICE_CODE_WINDOW_SECONDS = 15 * 60;
// As long as a session of nobody signed in is kept (ANONYMOUS_SESSION_TTL), about as long as such an interaction.
const ANONYMOUS_RECORD_WINDOW_SECONDS = 10 * 60;

const tooMany = (what: string, seconds: number) =>
  new Problem(429, 'too_many_requests', `too many ${what}; try again in ${seconds} seconds`, seconds);

/**
 * Brute-force and abuse limits. Failed logins count per username (an attacker guessing one password) and per
 * client IP (one address trying many usernames); while either is over its limit, logins are refused before the
 * password is even checked, and a correct password resets neither count. Registrations and client
 * registrations count per IP. Failed client requests (a wrong client secret, a guessed code or refresh token)
 * count per client and address; while over the limit that address is refused for that client before the client
 * is authenticated. Wrong user codes on the device page count per IP (RFC 8628 §5.1); while over the limit that
 * address is refused before its code is looked up. Records the provider stores for nobody signed in (a sign-in page's interaction, a pushed
 * request, a device code, a session) count per IP. The client IP comes from X-Forwarded-For only when TRUST_PROXY
 * is set (Koa's ctx.ip); an IPv6 address counts as its /64 (networkKey). Each refusal is reported to `onRefused`,
 * for the metrics.
 *
 * Every attempt is counted as it starts, atomically, and given back when it turns out to have succeeded: a
 * check made before counting would let a burst of concurrent guesses all through. So an attempt in flight
 * counts until it is answered.
 */
export class AbuseLimits {
  private readonly failuresPerUsername?: Limiter;
  private readonly failuresPerIp?: Limiter;
  private readonly registrationsPerIp?: Limiter;
  private readonly clientRegistrationsPerIp?: Limiter;
  private readonly failuresPerClientAndIp?: Limiter;
  private readonly deviceCodeFailuresPerIp?: Limiter;
  private readonly anonymousRecordsPerIp?: Limiter;

  constructor(limits: Config['limits'], limiter: LimiterFactory, private readonly onRefused: (limit: LimitName) => void = () => {}) {
    const make = (name: string, attempts: number, window: number) => (attempts > 0 ? limiter(name, attempts, window) : undefined);
    this.failuresPerUsername = make('login-user', limits.loginFailuresPerUsername, LOGIN_WINDOW_SECONDS);
    this.failuresPerIp = make('login-ip', limits.loginFailuresPerIp, LOGIN_WINDOW_SECONDS);
    this.registrationsPerIp = make('register-ip', limits.registrationsPerIp, REGISTRATION_WINDOW_SECONDS);
    this.clientRegistrationsPerIp = make('client-ip', limits.clientRegistrationsPerIp, REGISTRATION_WINDOW_SECONDS);
    this.failuresPerClientAndIp = make('client-failures', limits.tokenErrorsPerClientAndIp, CLIENT_FAILURE_WINDOW_SECONDS);
    this.deviceCodeFailuresPerIp = make('device-code-ip', limits.deviceCodeFailuresPerIp, DEVICE_CODE_WINDOW_SECONDS);
    this.anonymousRecordsPerIp = make('anonymous-ip', limits.anonymousRecordsPerIp, ANONYMOUS_RECORD_WINDOW_SECONDS);
  }

  /**
   * Runs one login attempt: throws 429 before `attempt` runs while the username or the address has failed too
   * often. The attempt counts as a failure unless it returns an account.
   */
  async login<T>(username: string, ip: string, attempt: () => Promise<T | undefined>): Promise<T | undefined> {
    // The address first: an address over its limit must not leave a counter behind for every name it makes up.
    const counted: Counted = [[this.failuresPerIp, networkKey(ip)], [this.failuresPerUsername, usernameKey(username)]];
    await this.takeAll(counted, 'login', 'failed logins');
    const account = await attempt();
    if (account !== undefined) await giveBackAll(counted);
    return account;
  }

  /** Counts this registration, or throws 429 when the address has made too many. */
  beforeRegistration(ip: string): Promise<void> {
    return this.takeAll([[this.registrationsPerIp, networkKey(ip)]], 'registration', 'registrations');
  }

  /** Counts a client registration from this address: 0 when it may go on, else the seconds to wait (not counted). */
  clientRegistration(ip: string): Promise<number> {
    return this.count(this.clientRegistrationsPerIp, networkKey(ip), 'client_registration');
  }

  /**
   * Counts a request that authenticates as this client from this address: 0 when it may go on, else the
   * seconds to wait (the request is then refused, and not counted). See clientRequestPassed.
   */
  clientRequest(clientId: string, ip: string): Promise<number> {
    return this.count(this.failuresPerClientAndIp, clientAndNetwork(clientId, ip), 'client_errors');
  }

  /** Uncounts a request counted by clientRequest that did not end in a failure that counts. */
  async clientRequestPassed(clientId: string, ip: string): Promise<void> {
    await this.failuresPerClientAndIp?.giveBack(clientAndNetwork(clientId, ip));
  }

  /**
   * Counts a user code entered on the device page from this address: 0 when it may be looked up, else the seconds
   * to wait (the entry is then refused, and not counted). See deviceCodeFound.
   */
  deviceCodeEntry(ip: string): Promise<number> {
    return this.count(this.deviceCodeFailuresPerIp, networkKey(ip), 'device_code');
  }

  /** Uncounts an entry counted by deviceCodeEntry whose code exists: a code typed right is no guess. */
  async deviceCodeFound(ip: string): Promise<void> {
    await this.deviceCodeFailuresPerIp?.giveBack(networkKey(ip));
  }

  /**
   * Counts a record stored for nobody signed in at this address's request: 0 when it may be stored, else the seconds
   * to wait (not counted).
   */
  anonymousRecord(ip: string): Promise<number> {
    return this.count(this.anonymousRecordsPerIp, networkKey(ip), 'anonymous_records');
  }

  /** Counts one attempt against `key`: 0 when it may go on, else the seconds to wait (reported, and not counted). */
  private async count(limiter: Limiter | undefined, key: string, limit: LimitName): Promise<number> {
    const wait = (await limiter?.take(key)) ?? 0;
    if (wait) this.onRefused(limit);
    return wait;
  }

  /**
   * Counts one attempt against each key in turn, or, at the first key over its limit, gives back what it took and
   * throws 429: a refused attempt counts nowhere, and writes nothing past the key that refused it.
   */
  private async takeAll(counted: Counted, limit: LimitName, what: string): Promise<void> {
    const taken: Counted = [];
    try {
      for (const [limiter, key] of counted) {
        const wait = await this.count(limiter, key, limit);
        if (wait) throw tooMany(what, wait);
        taken.push([limiter, key]);
      }
    } catch (err) {
      await giveBackAll(taken);
      throw err;
    }
  }
}

export type LimitName = 'login' | 'registration' | 'client_registration' | 'client_errors' | 'device_code' | 'anonymous_records';

type Counted = [Limiter | undefined, string][];

async function giveBackAll(counted: Counted): Promise<void> {
  await Promise.all(counted.map(([limiter, key]) => limiter?.giveBack(key)));
}

// A space occurs in no network key, so no two pairs share a key.
const clientAndNetwork = (clientId: string, ip: string) => `${networkKey(ip)} ${clientId}`;
