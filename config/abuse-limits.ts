import type { Config } from './env.js';

/** What a limit's count is kept per. */
export type CountedPer = 'username' | 'network' | 'client and network';

export interface AbuseLimit {
  /** What is counted, as a refusal names it: "too many failed logins; try again in 60 seconds". */
  counts: string;
  per: CountedPer;
  windowSeconds: number;
  /** The setting that says how many per window (0: off); its LIMIT_* variable is in config/env.ts. */
  setting: keyof Config['limits'];
  /** The `limit` label of mcp_oauth_limit_refusals_total; two counts of one attempt share it. */
  metric: LimitName;
  /** Names the counters in storage (`limit:<key>:…` in Redis): changing it starts every count afresh. */
  storageKey: string;
}

export type LimitName = 'login' | 'registration' | 'client_registration' | 'client_errors' | 'device_code' | 'anonymous_records';

/**
 * Every brute-force and abuse limit: what it counts, per what, and for how long. A network is a client address, an
 * IPv6 address counting as its /64 (src/http/client-network.ts); the address comes from X-Forwarded-For only with
 * TRUST_PROXY. How each is counted is in src/limits/.
 */
export const ABUSE_LIMITS = {
  /** Failed sign-ins of one username: someone guessing one person's password. */
  failedLoginsPerUsername: {
    counts: 'failed logins', per: 'username', windowSeconds: 15 * 60, setting: 'loginFailuresPerUsername', metric: 'login', storageKey: 'login-user',
  },
  /** Failed sign-ins from one network: someone trying many usernames. */
  failedLoginsPerNetwork: {
    counts: 'failed logins', per: 'network', windowSeconds: 15 * 60, setting: 'loginFailuresPerIp', metric: 'login', storageKey: 'login-ip',
  },
  registrations: {
    counts: 'registrations', per: 'network', windowSeconds: 60 * 60, setting: 'registrationsPerIp', metric: 'registration', storageKey: 'register-ip',
  },
  /** Dynamic Client Registration, wherever the provider routes it. */
  clientRegistrations: {
    counts: 'client registrations from this address', per: 'network', windowSeconds: 60 * 60,
    setting: 'clientRegistrationsPerIp', metric: 'client_registration', storageKey: 'client-ip',
  },
  /** A wrong client secret, or a guessed code, refresh token or PKCE verifier of a public client. */
  failedClientRequests: {
    counts: 'failed requests for this client from this address', per: 'client and network', windowSeconds: 15 * 60,
    setting: 'tokenErrorsPerClientAndIp', metric: 'client_errors', storageKey: 'client-failures',
  },
  /** Wrong user codes on the device page (RFC 8628 §5.1). */
  wrongDeviceCodes: {
    counts: 'wrong codes from this address', per: 'network', windowSeconds: 15 * 60,
    setting: 'deviceCodeFailuresPerIp', metric: 'device_code', storageKey: 'device-code-ip',
  },
  /**
   * Records the provider stores for nobody signed in (a sign-in page's interaction, a pushed request, a device code,
   * a session), over as long as such a session is kept (ANONYMOUS_SESSION_TTL), about as long as such an interaction.
   */
  anonymousRecords: {
    counts: 'sign-ins started from this network', per: 'network', windowSeconds: 10 * 60,
    setting: 'anonymousRecordsPerIp', metric: 'anonymous_records', storageKey: 'anonymous-ip',
  },
} as const satisfies Record<string, AbuseLimit>;

export type AbuseLimitName = keyof typeof ABUSE_LIMITS;
