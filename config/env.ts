import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { redisAddresses, redisConfig, type RedisConfig } from './redis.js';

/*
 * The environment, validated once at start. Every variable the server reads is named here, so this file is
 * also the reference for the README's configuration table.
 */

export const DEV_CLIENT1_SECRET = 'secret1';

export interface Config {
  nodeEnv: string;
  port: number;
  host: string;
  /** Unset means "http://localhost:<the port actually bound>", resolved once the server listens. */
  issuer: string | undefined;
  /**
   * How many reverse proxies in front of the server append to X-Forwarded-For; 0: none, and X-Forwarded-For
   * is ignored. The client IP is the entry the outermost of them appended, never one the client sent itself.
   * An incoming X-Request-Id is kept only when this is set (src/ops/request-id.ts).
   */
  trustProxy: number;
  logLevel: string;
  client1: { secret: string; redirectUris: string[] | undefined };
  /** Confidential clients that may call the introspection endpoint (resource servers). */
  resourceServers: { clientId: string; secret: string }[];
  /** Undefined: generated per process (development only). */
  cookieKeys: string[] | undefined;
  /** Private signing keys as JWKs; undefined: generated per process (development only). */
  jwks: { keys: Record<string, unknown>[] } | undefined;
  /** Unset: everything in memory. */
  redis: RedisConfig | undefined;
  /** Brute-force and abuse limits (attempts per window); 0 turns one off. */
  limits: {
    loginFailuresPerUsername: number;
    loginFailuresPerIp: number;
    registrationsPerIp: number;
    clientRegistrationsPerIp: number;
    tokenErrorsPerClientAndIp: number;
    deviceCodeFailuresPerIp: number;
    /** Records stored for nobody signed in (interactions, sessions, pushed requests, device codes), per 10 minutes. */
    anonymousRecordsPerIp: number;
  };
  /** Seconds a self-registered (DCR) client is kept without use. */
  clientIdleTtlSeconds: number;
  /** Whether anyone may create an account (POST /oauth/register, the sign-up pages); closed: only operators do. */
  signupOpen: boolean;
  /** Whether Dynamic Client Registration (POST /oauth/clients) is open; closed: it is off and not advertised. */
  clientRegistrationOpen: boolean;
  /**
   * The hosts whose https client_id URLs (Client ID Metadata Documents) are accepted: exact hosts (with a port when
   * the URL has one) or `*.example.com` for any name below example.com. Empty: any host.
   */
  cimdAllowedHosts: string[];
  /** The bearer token /metrics requires; unset: /metrics answers loopback and private addresses only. */
  metricsToken: string | undefined;
  /** Who may call /mcp besides the issuer's own origin and host (DNS-rebinding protection). */
  mcp: { allowedOrigins: string[]; allowedHosts: string[] };
  /**
   * The HTTP server's bounds, in milliseconds (src/http/bounded-server.ts): the request's headers, and all of it with
   * its body, must arrive within these; an idle keep-alive connection is closed after keepAliveTimeoutMs; at most
   * maxConnections are open at once (0: no limit).
   */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number };
  /**
   * On SIGTERM (src/http/drain.ts): for drainMs, idle keep-alive connections stay open to answer, with Connection:
   * close, a request already on its way; after graceMs, whatever still runs is cut.
   */
  shutdown: { drainMs: number; graceMs: number };
  /** True when the process runs on any development default (see productionProblems). */
  usesDevDefaults: { client1Secret: boolean; cookieKeys: boolean; jwks: boolean };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const commaList = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const limit = (fallback: number) => z.coerce.number({ error: 'must be a number' })
  .int('must be a whole number').min(0, 'must be 0 (off) or more').default(fallback);

/** Longer than an hour is no bound at all; a floor of a second catches seconds written where milliseconds are meant. */
const milliseconds = (fallback: number, min = 1000) => z.coerce.number({ error: 'must be a number' })
  .int('must be a whole number of milliseconds').min(min, `must be from ${min} to 3600000 (milliseconds)`)
  .max(3_600_000, `must be from ${min} to 3600000 (milliseconds)`).default(fallback);

const parseUrl = (v: string) => (URL.canParse(v) ? new URL(v) : undefined);

const httpUrl = z.string().refine((v) => {
  const u = parseUrl(v);
  return !!u && (u.protocol === 'http:' || u.protocol === 'https:') && !u.hash;
}, { error: 'must be an absolute http(s) URL without a fragment', abort: true });

/** A browser origin: scheme, host and port, nothing else (a trailing slash is tolerated and dropped). */
const origin = z.string().refine((v) => {
  const u = parseUrl(v);
  return !!u && (u.protocol === 'http:' || u.protocol === 'https:') && u.pathname === '/' && !u.search && !u.hash
    && !u.username && !u.password;
}, { error: 'entries must be origins such as https://app.example.com (scheme, host and optional port only)', abort: true })
  .transform((v) => new URL(v).origin);

/** A Host header value: a host name or IP literal and an optional port; compared without regard to case. */
const hostHeader = z.string()
  .regex(/^([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/i, 'entries must be hosts such as mcp.example.com or localhost:3000')
  .transform((v) => v.toLowerCase());

const openOrClosed = z.enum(['open', 'closed'], { error: 'must be open or closed' }).transform((v) => v === 'open');

/**
 * A host a Client ID Metadata Document may come from, as the URL's host reads once parsed (lower case, no default
 * port): `app.example.com`, `app.example.com:8443`, or `*.example.com` for any name below example.com.
 */
const metadataDocumentHost = z.string()
  .regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i, 'entries must be hosts such as app.example.com or *.example.com (optionally with :port)')
  .transform((v) => {
    const wildcard = v.startsWith('*.');
    return `${wildcard ? '*.' : ''}${new URL(`https://${wildcard ? v.slice(2) : v}`).host}`;
  });

const schema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number({ error: 'must be a number' }).int('must be a whole number')
    .min(0, 'must be from 0 to 65535').max(65535, 'must be from 0 to 65535').default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ISSUER: httpUrl
    .refine((v) => !parseUrl(v)?.search, { error: 'must not have a query string' })
    .refine((v) => !v.endsWith('/'), { error: 'must not end with a slash' })
    // The well-known metadata URLs (RFC 8414, RFC 9728) go between the host and any path: keep it at the root.
    .refine((v) => parseUrl(v)?.pathname === '/', { error: 'must be an origin without a path, e.g. https://auth.example.com' })
    .optional(),
  TRUST_PROXY: z.string()
    .regex(/^(true|false|yes|no|\d{1,2})$/, { error: 'must be true or false, or the number of proxies in front of the server' })
    .transform((v) => ({ true: 1, yes: 1, false: 0, no: 0 } as Record<string, number>)[v] ?? Number(v))
    .default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'must be one of fatal, error, warn, info, debug, trace, silent',
  }).default('info'),
  CLIENT1_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  CLIENT1_REDIRECT_URIS: z.string().transform(commaList)
    .pipe(z.array(httpUrl).min(1, 'must list at least one URL')).optional(),
  RESOURCE_SERVERS: z.string().transform(commaList).pipe(z.array(
    z.string().regex(/^[^:]+:.{16,}$/, 'entries must be client_id:secret with a secret of 16+ characters')
      .transform((entry) => {
        const at = entry.indexOf(':');
        return { clientId: entry.slice(0, at), secret: entry.slice(at + 1) };
      }),
  )).default([]),
  COOKIE_KEYS: z.string().transform(commaList)
    .pipe(z.array(z.string().min(32, 'each key must be at least 32 characters')).min(1, 'must list at least one key'))
    .optional(),
  JWKS: z.string().optional(),
  JWKS_FILE: z.string().optional(),
  ALLOW_DEV_DEFAULTS: boolean.default(false),
  // The topology and its rules: config/redis.ts.
  REDIS_URL: z.string().refine((v) => /^rediss?:$/.test(parseUrl(v)?.protocol ?? ''), {
    error: 'must be a redis:// or rediss:// URL',
  }).optional(),
  REDIS_CLUSTER_NODES: z.string().transform(commaList).pipe(redisAddresses).optional(),
  REDIS_SENTINELS: z.string().transform(commaList).pipe(redisAddresses).optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^[\w.-]{1,64}$/, 'must be the name the sentinels monitor, e.g. mymaster').optional(),
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_TLS: boolean.optional(),
  REDIS_SENTINEL_USERNAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  REDIS_WAIT_REPLICAS: z.coerce.number({ error: 'must be a number' }).int('must be a whole number')
    .min(0, 'must be from 0 (do not wait) to 16').max(16, 'must be from 0 (do not wait) to 16').default(0),
  // Below the Redis client's 2 s command timeout, so that a WAIT that runs out answers before the client gives up.
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number({ error: 'must be a number' }).int('must be a whole number')
    .min(10, 'must be from 10 to 1000').max(1000, 'must be from 10 to 1000').default(250),
  LIMIT_LOGIN_FAILURES_PER_USERNAME: limit(10),
  LIMIT_LOGIN_FAILURES_PER_IP: limit(50),
  LIMIT_REGISTRATIONS_PER_IP: limit(20),
  LIMIT_CLIENT_REGISTRATIONS_PER_IP: limit(30),
  LIMIT_TOKEN_ERRORS_PER_CLIENT_AND_IP: limit(30),
  LIMIT_DEVICE_CODE_FAILURES_PER_IP: limit(20),
  // A person signing in makes two or three; an office behind one address signing in all at once stays well under it.
  LIMIT_ANONYMOUS_RECORDS_PER_IP: limit(600),
  CLIENT_IDLE_TTL_DAYS: z.coerce.number({ error: 'must be a number' }).int('must be a whole number')
    .min(1, 'must be from 1 to 3650').max(3650, 'must be from 1 to 3650').default(30),
  SIGNUP: openOrClosed.default(true),
  CLIENT_REGISTRATION: openOrClosed.default(true),
  CIMD_ALLOWED_HOSTS: z.string().transform(commaList).pipe(z.array(metadataDocumentHost)).default([]),
  REDIS_PREFIX: z.string().regex(/^[\w:.-]{0,64}$/, 'must be up to 64 characters of letters, digits, "_", ":", "." or "-"')
    .default('mcp-oauth:'),
  // A bearer token's characters (RFC 6750 b64token), so a scraper can send it as it is.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters')
    .regex(/^[A-Za-z0-9._~+/-]+=*$/, 'must be letters, digits and - . _ ~ + / (a bearer token), optionally ending in =')
    .optional(),
  MCP_ALLOWED_ORIGINS: z.string().transform(commaList).pipe(z.array(origin)).default([]),
  MCP_ALLOWED_HOSTS: z.string().transform(commaList).pipe(z.array(hostHeader)).default([]),
  HTTP_HEADERS_TIMEOUT_MS: milliseconds(10_000),
  HTTP_REQUEST_TIMEOUT_MS: milliseconds(30_000),
  // Above the 60 s idle timeout of common proxies (nginx's upstream keepalive_timeout, AWS ALB), so that they, not
  // we, close an idle connection: a proxy never sends a request on a connection we are closing.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: milliseconds(65_000),
  HTTP_MAX_CONNECTIONS: limit(4096),
  SHUTDOWN_DRAIN_MS: milliseconds(2_000, 0),
  SHUTDOWN_GRACE_MS: milliseconds(10_000),
});

function parseJwks(text: string, source: string): Config['jwks'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError([`${source}: is not valid JSON`]);
  }
  const result = z.object({
    keys: z.array(z.record(z.string(), z.unknown()).refine((k) => typeof k.d === 'string' || typeof k.k === 'string', {
      error: 'every key must be a private JWK',
    })).min(1),
  }).safeParse(parsed);
  if (!result.success) {
    throw new ConfigError([`${source}: must be a JWK Set {"keys":[...]} of private keys (${result.error.issues[0]?.message})`]);
  }
  return result.data;
}

function loadJwks(env: z.infer<typeof schema>): Config['jwks'] {
  if (env.JWKS && env.JWKS_FILE) throw new ConfigError(['JWKS and JWKS_FILE: set one, not both']);
  if (env.JWKS) return parseJwks(env.JWKS, 'JWKS');
  if (env.JWKS_FILE) {
    let text: string;
    try {
      text = readFileSync(env.JWKS_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError([`JWKS_FILE: cannot read ${env.JWKS_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
    return parseJwks(text, 'JWKS_FILE');
  }
  return undefined;
}

/** Bounds that only make sense in a given order; Node itself refuses a headers timeout above the request timeout. */
function orderProblems(env: z.infer<typeof schema>): string[] {
  const problems: string[] = [];
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(`HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS}), which covers the headers too`);
  }
  if (env.SHUTDOWN_DRAIN_MS > env.SHUTDOWN_GRACE_MS) {
    problems.push(`SHUTDOWN_DRAIN_MS: must not exceed SHUTDOWN_GRACE_MS (${env.SHUTDOWN_GRACE_MS}), which ends the drain too`);
  }
  return problems;
}

/** Production must not run on secrets everybody knows; each problem names the variable to set. */
function productionProblems(config: Config): string[] {
  const problems: string[] = [];
  const hint = 'or ALLOW_DEV_DEFAULTS=true to accept the development default';
  if (config.usesDevDefaults.client1Secret) {
    problems.push(`CLIENT1_SECRET: not set, so client1 would use the public development secret; set CLIENT1_SECRET (${hint})`);
  }
  if (config.usesDevDefaults.cookieKeys) {
    problems.push(`COOKIE_KEYS: not set and no REDIS_URL to keep generated ones, so cookie keys would be generated per process; set COOKIE_KEYS or REDIS_URL (${hint})`);
  }
  if (config.usesDevDefaults.jwks) {
    problems.push(`JWKS: neither JWKS nor JWKS_FILE is set and no REDIS_URL to keep generated ones, so signing keys would be generated per process; set JWKS, JWKS_FILE or REDIS_URL (${hint})`);
  }
  return problems;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    // One line per variable: list entries report under the variable's own name.
    const seen = new Set<string>();
    const problems = parsed.error.issues.flatMap((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      if (seen.has(name)) return [];
      seen.add(name);
      return [`${name}: ${issue.message}`];
    });
    throw new ConfigError(problems);
  }
  const env = parsed.data;
  const { redis, problems: redisProblems } = redisConfig(env);
  const related = [...orderProblems(env), ...redisProblems];
  if (related.length) throw new ConfigError(related);
  const jwks = loadJwks(env);
  const config: Config = {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    issuer: env.ISSUER,
    trustProxy: env.TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
    client1: { secret: env.CLIENT1_SECRET ?? DEV_CLIENT1_SECRET, redirectUris: env.CLIENT1_REDIRECT_URIS },
    resourceServers: env.RESOURCE_SERVERS,
    cookieKeys: env.COOKIE_KEYS,
    jwks,
    redis,
    limits: {
      loginFailuresPerUsername: env.LIMIT_LOGIN_FAILURES_PER_USERNAME,
      loginFailuresPerIp: env.LIMIT_LOGIN_FAILURES_PER_IP,
      registrationsPerIp: env.LIMIT_REGISTRATIONS_PER_IP,
      clientRegistrationsPerIp: env.LIMIT_CLIENT_REGISTRATIONS_PER_IP,
      tokenErrorsPerClientAndIp: env.LIMIT_TOKEN_ERRORS_PER_CLIENT_AND_IP,
      deviceCodeFailuresPerIp: env.LIMIT_DEVICE_CODE_FAILURES_PER_IP,
      anonymousRecordsPerIp: env.LIMIT_ANONYMOUS_RECORDS_PER_IP,
    },
    clientIdleTtlSeconds: env.CLIENT_IDLE_TTL_DAYS * 24 * 60 * 60,
    signupOpen: env.SIGNUP,
    clientRegistrationOpen: env.CLIENT_REGISTRATION,
    cimdAllowedHosts: env.CIMD_ALLOWED_HOSTS,
    metricsToken: env.METRICS_TOKEN,
    mcp: { allowedOrigins: env.MCP_ALLOWED_ORIGINS, allowedHosts: env.MCP_ALLOWED_HOSTS },
    http: {
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: env.HTTP_MAX_CONNECTIONS,
    },
    shutdown: { drainMs: env.SHUTDOWN_DRAIN_MS, graceMs: env.SHUTDOWN_GRACE_MS },
    // Generated keys are a development default only where nothing keeps them: with Redis they are shared and kept.
    usesDevDefaults: {
      client1Secret: !env.CLIENT1_SECRET,
      cookieKeys: !env.COOKIE_KEYS && !redis,
      jwks: !jwks && !redis,
    },
  };
  if (env.NODE_ENV === 'production' && !env.ALLOW_DEV_DEFAULTS) {
    const problems = productionProblems(config);
    if (problems.length) throw new ConfigError(problems);
  }
  return config;
}
