import { usernameKey, type Limiter, type LimiterFactory } from '../../adapters/stores.js';
import type { Config } from '../../config/env.js';
import { Problem } from '../http/problem.js';
import { networkKey } from './network.js';

const LOGIN_WINDOW_SECONDS = 15 * 60;
const REGISTRATION_WINDOW_SECONDS = 60 * 60;
const CLIENT_FAILURE_WINDOW_SECONDS = 15 * 60;

const tooMany = (what: string, seconds: number) =>
  new Problem(429, 'too_many_requests', `too many ${what}; try again in ${seconds} seconds`, seconds);

/**
 * Brute-force and abuse limits. Failed logins count per username (an attacker guessing one password) and per
 * client IP (one address trying many usernames); while either is over its limit, logins are refused before the
 * password is even checked, and a correct password resets neither count. Registrations and client
 * registrations count per IP. Failed client requests (a wrong client secret, a guessed code or refresh token)
 * count per client and address; while over the limit that address is refused for that client before the client
 * is authenticated. The client IP comes from X-Forwarded-For only when TRUST_PROXY is set (Koa's ctx.ip); an
 * IPv6 address counts as its /64 (networkKey). Each refusal is reported to `onRefused`, for the metrics.
 */
export class AbuseLimits {
  private readonly failuresPerUsername?: Limiter;
  private readonly failuresPerIp?: Limiter;
  private readonly registrationsPerIp?: Limiter;
  private readonly clientRegistrationsPerIp?: Limiter;
  private readonly failuresPerClientAndIp?: Limiter;

  constructor(limits: Config['limits'], limiter: LimiterFactory, private readonly onRefused: (limit: LimitName) => void = () => {}) {
    const make = (name: string, attempts: number, window: number) => (attempts > 0 ? limiter(name, attempts, window) : undefined);
    this.failuresPerUsername = make('login-user', limits.loginFailuresPerUsername, LOGIN_WINDOW_SECONDS);
    this.failuresPerIp = make('login-ip', limits.loginFailuresPerIp, LOGIN_WINDOW_SECONDS);
    this.registrationsPerIp = make('register-ip', limits.registrationsPerIp, REGISTRATION_WINDOW_SECONDS);
    this.clientRegistrationsPerIp = make('client-ip', limits.clientRegistrationsPerIp, REGISTRATION_WINDOW_SECONDS);
    this.failuresPerClientAndIp = make('client-failures', limits.tokenErrorsPerClientAndIp, CLIENT_FAILURE_WINDOW_SECONDS);
  }

  /** Throws 429 while this username or this address has failed too often. */
  async beforeLogin(username: string, ip: string): Promise<void> {
    const [user, address] = await Promise.all([
      this.failuresPerUsername?.blockedFor(usernameKey(username)) ?? 0,
      this.failuresPerIp?.blockedFor(networkKey(ip)) ?? 0,
    ]);
    const wait = Math.max(user, address);
    if (wait) throw this.refuse('login', 'failed logins', wait);
  }

  async loginFailed(username: string, ip: string): Promise<void> {
    await Promise.all([this.failuresPerUsername?.hit(usernameKey(username)), this.failuresPerIp?.hit(networkKey(ip))]);
  }

  /** Counts this registration, or throws 429 when the address has made too many. */
  beforeRegistration(ip: string): Promise<void> {
    return this.countOrRefuse(this.registrationsPerIp, ip, 'registration', 'registrations');
  }

  beforeClientRegistration(ip: string): Promise<void> {
    return this.countOrRefuse(this.clientRegistrationsPerIp, ip, 'client_registration', 'client registrations');
  }

  /** Seconds this address must wait before it may authenticate as this client again (a refusal); 0 when it may now. */
  async clientBlockedFor(clientId: string, ip: string): Promise<number> {
    const wait = (await this.failuresPerClientAndIp?.blockedFor(clientAndNetwork(clientId, ip))) ?? 0;
    if (wait) this.onRefused('client_errors');
    return wait;
  }

  async clientFailed(clientId: string, ip: string): Promise<void> {
    await this.failuresPerClientAndIp?.hit(clientAndNetwork(clientId, ip));
  }

  private refuse(limit: LimitName, what: string, seconds: number): Problem {
    this.onRefused(limit);
    return tooMany(what, seconds);
  }

  private async countOrRefuse(limiter: Limiter | undefined, ip: string, limit: LimitName, what: string): Promise<void> {
    if (!limiter) return;
    const key = networkKey(ip);
    const wait = await limiter.blockedFor(key);
    if (wait) throw this.refuse(limit, what, wait);
    await limiter.hit(key);
  }
}

export type LimitName = 'login' | 'registration' | 'client_registration' | 'client_errors';

// A space occurs in no network key, so no two pairs share a key.
const clientAndNetwork = (clientId: string, ip: string) => `${networkKey(ip)} ${clientId}`;
