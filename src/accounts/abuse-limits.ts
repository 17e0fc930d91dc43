import { usernameKey, type Limiter, type LimiterFactory } from '../../adapters/stores.js';
import type { Config } from '../../config/env.js';
import { Problem } from '../http/problem.js';

export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const REGISTRATION_WINDOW_SECONDS = 60 * 60;
export const CLIENT_FAILURE_WINDOW_SECONDS = 15 * 60;

export const tooMany = (what: string, seconds: number) =>
  new Problem(429, 'too_many_requests', `too many ${what}; try again in ${seconds} seconds`, seconds);

/**
 * Brute-force and abuse limits. Failed logins count per username (an attacker guessing one password) and per
 * client IP (one address trying many usernames); while either is over its limit, logins are refused before the
 * password is even checked, and a correct password resets neither count. Registrations and client
 * registrations count per IP. Failed client requests (a wrong client secret, a guessed code or refresh token)
 * count per client and address; while over the limit that address is refused for that client before the client
 * is authenticated. The client IP comes from X-Forwarded-For only when TRUST_PROXY is set (Koa's ctx.ip).
 */
export class AbuseLimits {
  private readonly failuresPerUsername?: Limiter;
  private readonly failuresPerIp?: Limiter;
  private readonly registrationsPerIp?: Limiter;
  private readonly clientRegistrationsPerIp?: Limiter;
  private readonly failuresPerClientAndIp?: Limiter;

  constructor(limits: Config['limits'], limiter: LimiterFactory) {
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
      this.failuresPerIp?.blockedFor(ip) ?? 0,
    ]);
    const wait = Math.max(user, address);
    if (wait) throw tooMany('failed logins', wait);
  }

  async loginFailed(username: string, ip: string): Promise<void> {
    await Promise.all([this.failuresPerUsername?.hit(usernameKey(username)), this.failuresPerIp?.hit(ip)]);
  }

  /** Counts this registration, or throws 429 when the address has made too many. */
  beforeRegistration(ip: string): Promise<void> {
    return countOrRefuse(this.registrationsPerIp, ip, 'registrations');
  }

  beforeClientRegistration(ip: string): Promise<void> {
    return countOrRefuse(this.clientRegistrationsPerIp, ip, 'client registrations');
  }

  /** Seconds this address must wait before it may authenticate as this client again; 0 when it may now. */
  async clientBlockedFor(clientId: string, ip: string): Promise<number> {
    return (await this.failuresPerClientAndIp?.blockedFor(clientAndIp(clientId, ip))) ?? 0;
  }

  async clientFailed(clientId: string, ip: string): Promise<void> {
    await this.failuresPerClientAndIp?.hit(clientAndIp(clientId, ip));
  }
}

// A space cannot occur in an IP address, so no two pairs share a key.
const clientAndIp = (clientId: string, ip: string) => `${ip} ${clientId}`;

async function countOrRefuse(limiter: Limiter | undefined, key: string, what: string): Promise<void> {
  if (!limiter) return;
  const wait = await limiter.blockedFor(key);
  if (wait) throw tooMany(what, wait);
  await limiter.hit(key);
}
