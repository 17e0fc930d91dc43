import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../config/env.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const privateJwks = JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5' }] });
const productionReady = {
  NODE_ENV: 'production',
  CLIENT1_SECRET: 'a-long-production-secret',
  COOKIE_KEYS: 'k'.repeat(32),
  JWKS: privateJwks,
};

describe('configuration from the environment', () => {
  it('defaults to port 3000 on localhost, the development client secret and generated keys', () => {
    const config = loadConfig({});
    expect(config).to.include({ port: 3000, host: '127.0.0.1', issuer: undefined, trustProxy: 0, logLevel: 'info' });
    expect(config.client1).to.deep.equal({ secret: 'secret1', redirectUris: undefined });
    // The defaults the README's table documents: a limit silently turned off (0) must fail here.
    expect(config.limits).to.deep.equal({
      loginFailuresPerUsername: 10, loginFailuresPerIp: 50, registrationsPerIp: 20, clientRegistrationsPerIp: 30, tokenErrorsPerClientAndIp: 30,
      deviceCodeFailuresPerIp: 20,
      anonymousRecordsPerIp: 600,
    });
    expect(config.usesDevDefaults).to.deep.equal({ client1Secret: true, cookieKeys: true, jwks: true });
    expect(config.clientIdleTtlSeconds).to.equal(30 * 24 * 60 * 60);
    expect(config).to.include({ signupOpen: true, clientRegistrationOpen: true });
    expect(config.cimdAllowedHosts).to.deep.equal([]);
    expect(config.http).to.deep.equal({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 65_000, maxConnections: 4096 });
    expect(config.shutdown).to.deep.equal({ drainMs: 2000, graceMs: 10_000 });
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '8080', HOST: '0.0.0.0', ISSUER: 'https://auth.example.com', TRUST_PROXY: 'true', LOG_LEVEL: 'warn',
      CLIENT1_SECRET: 'another-secret', CLIENT1_REDIRECT_URIS: 'https://app.example.com/cb, http://localhost:8080/callback',
      RESOURCE_SERVERS: 'rs1:0123456789abcdef0123', COOKIE_KEYS: `${'a'.repeat(32)},${'b'.repeat(40)}`, JWKS: privateJwks,
      METRICS_TOKEN: 'scrape-0123456789abcdef', CLIENT_IDLE_TTL_DAYS: '7', LIMIT_DEVICE_CODE_FAILURES_PER_IP: '5',
      LIMIT_ANONYMOUS_RECORDS_PER_IP: '50',
      HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '20000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '620000',
      HTTP_MAX_CONNECTIONS: '0', SHUTDOWN_DRAIN_MS: '0', SHUTDOWN_GRACE_MS: '25000',
    });
    expect(config.limits.deviceCodeFailuresPerIp).to.equal(5);
    expect(config.limits.anonymousRecordsPerIp).to.equal(50);
    expect(config.http).to.deep.equal({ headersTimeoutMs: 5000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 620_000, maxConnections: 0 });
    expect(config.shutdown).to.deep.equal({ drainMs: 0, graceMs: 25_000 });
    expect(config.clientIdleTtlSeconds).to.equal(7 * 24 * 60 * 60);
    expect(config.metricsToken).to.equal('scrape-0123456789abcdef');
    expect(config).to.include({ port: 8080, host: '0.0.0.0', issuer: 'https://auth.example.com', trustProxy: 1, logLevel: 'warn' });
    expect(config.client1.redirectUris).to.deep.equal(['https://app.example.com/cb', 'http://localhost:8080/callback']);
    expect(config.resourceServers).to.deep.equal([{ clientId: 'rs1', secret: '0123456789abcdef0123' }]);
    expect(config.cookieKeys).to.have.length(2);
    expect(config.jwks?.keys).to.have.length(1);
  });

  it('TRUST_PROXY is a yes/no or the number of proxies in front', () => {
    for (const [value, hops] of [['false', 0], ['no', 0], ['0', 0], ['true', 1], ['yes', 1], ['1', 1], ['2', 2]] as const) {
      expect(loadConfig({ TRUST_PROXY: value }).trustProxy, value).to.equal(hops);
    }
    expect(problemsOf({ TRUST_PROXY: '-1' })).to.have.length(1);
  });

  it('reports one clear problem per bad value, all at once', () => {
    const problems = problemsOf({ PORT: 'eighty', ISSUER: 'ftp://x', LOG_LEVEL: 'loud', TRUST_PROXY: 'maybe' });
    expect(problems).to.have.length(4);
    expect(problems.find((p) => p.startsWith('PORT:'))).to.match(/number/);
    expect(problems.find((p) => p.startsWith('ISSUER:'))).to.match(/http\(s\) URL/);
    expect(problems.find((p) => p.startsWith('LOG_LEVEL:'))).to.match(/one of/);
    expect(problems.find((p) => p.startsWith('TRUST_PROXY:'))).to.match(/true or false/);
  });

  for (const [name, value, pattern] of [
    ['PORT', '70000', /0 to 65535/],
    ['PORT', '3.5', /whole number/],
    ['ISSUER', 'http://localhost:3000/', /slash/],
    ['ISSUER', 'http://localhost:3000?x=1', /query/],
    ['ISSUER', 'not a url', /URL/],
    ['ISSUER', 'https://auth.example.com/tenant', /without a path/],
    ['CLIENT1_SECRET', 'short', /at least 8/],
    ['CLIENT1_REDIRECT_URIS', 'javascript:alert(1)', /URL/],
    ['COOKIE_KEYS', 'too-short', /at least 32/],
    ['RESOURCE_SERVERS', 'no-secret', /client_id:secret/],
    ['METRICS_TOKEN', 'short', /at least 16/],
    ['CLIENT_IDLE_TTL_DAYS', '0', /1 to 3650/],
    ['LIMIT_ANONYMOUS_RECORDS_PER_IP', '-1', /0 \(off\) or more/],
    ['LIMIT_ANONYMOUS_RECORDS_PER_IP', 'many', /number/],
    ['CLIENT_IDLE_TTL_DAYS', '1.5', /whole number/],
    ['LIMIT_DEVICE_CODE_FAILURES_PER_IP', '-1', /0 \(off\) or more/],
    ['LIMIT_DEVICE_CODE_FAILURES_PER_IP', 'twenty', /number/],
    ['LIMIT_DEVICE_CODE_FAILURES_PER_IP', '2.5', /whole number/],
    ['METRICS_TOKEN', 'has a space in it somewhere', /bearer token/],
    ['JWKS', '{not json', /not valid JSON/],
    // Seconds written where milliseconds are meant.
    ['HTTP_HEADERS_TIMEOUT_MS', '10', /from 1000 to 3600000/],
    ['HTTP_REQUEST_TIMEOUT_MS', '4000000', /from 1000 to 3600000/],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '65s', /number/],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '1500.5', /whole number/],
    ['HTTP_MAX_CONNECTIONS', '-1', /0 \(off\) or more/],
    ['SHUTDOWN_DRAIN_MS', '-5', /from 0 to 3600000/],
    ['SHUTDOWN_GRACE_MS', '0', /from 1000 to 3600000/],
    ['HTTP_HEADERS_TIMEOUT_MS', '40000', /must not exceed HTTP_REQUEST_TIMEOUT_MS \(30000\)/],
    ['SHUTDOWN_DRAIN_MS', '15000', /must not exceed SHUTDOWN_GRACE_MS \(10000\)/],
    ['JWKS', '{"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]}', /private/],
    ['SIGNUP', 'false', /must be open or closed/],
    ['SIGNUP', 'Closed', /must be open or closed/],
    ['CLIENT_REGISTRATION', 'off', /must be open or closed/],
    ['CIMD_ALLOWED_HOSTS', 'https://apps.example.com', /hosts such as app\.example\.com or \*\.example\.com/],
    ['CIMD_ALLOWED_HOSTS', 'apps.example.com, *', /hosts such as/],
    ['CIMD_ALLOWED_HOSTS', 'apps.example.com/client.json', /hosts such as/],
    ['CIMD_ALLOWED_HOSTS', 'a.*.example.com', /hosts such as/],
  ] as const) {
    it(`refuses ${name}=${value}`, () => {
      const problems = problemsOf({ [name]: value });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(new RegExp(`^${name}: `)).and.match(pattern);
    });
  }

  it('reads SIGNUP and CLIENT_REGISTRATION (open or closed), and CIMD_ALLOWED_HOSTS as the hosts of parsed URLs', () => {
    const config = loadConfig({
      SIGNUP: 'closed', CLIENT_REGISTRATION: 'closed',
      CIMD_ALLOWED_HOSTS: 'Apps.Example.com, *.Tools.example, notes.example:443, notes.example:8443,,',
    });
    expect(config).to.include({ signupOpen: false, clientRegistrationOpen: false });
    // Lower case and no default port, as a client_id URL's host reads once parsed: an entry that matches nothing is a trap.
    expect(config.cimdAllowedHosts).to.deep.equal(['apps.example.com', '*.tools.example', 'notes.example', 'notes.example:8443']);
    expect(loadConfig({ SIGNUP: 'open', CLIENT_REGISTRATION: 'open' })).to.include({ signupOpen: true, clientRegistrationOpen: true });
  });

  it('never echoes a secret value in its error', () => {
    const [problem] = problemsOf({ CLIENT1_SECRET: 'hunter2' });
    expect(problem).to.not.include('hunter2');
  });

  it('reads JWKS_FILE, and says when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
    const file = join(dir, 'jwks.json');
    writeFileSync(file, privateJwks);
    expect(loadConfig({ JWKS_FILE: file }).jwks?.keys).to.have.length(1);
    expect(problemsOf({ JWKS_FILE: join(dir, 'missing.json') })[0]).to.match(/^JWKS_FILE: cannot read .*ENOENT/);
    expect(problemsOf({ JWKS_FILE: file, JWKS: privateJwks })[0]).to.match(/one, not both/);
  });

  it('reads REDIS_URL and REDIS_PREFIX, and refuses what is not a Redis URL or a safe prefix', () => {
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/2' }).redis).to.deep.equal({
      topology: { kind: 'standalone', url: 'redis://127.0.0.1:6379/2' }, prefix: 'mcp-oauth:', waitReplicas: 0, waitTimeoutMs: 250,
    });
    expect(loadConfig({ REDIS_URL: 'rediss://h:6380', REDIS_PREFIX: 'a.b-c:' }).redis?.prefix).to.equal('a.b-c:');
    expect(problemsOf({ REDIS_URL: 'http://127.0.0.1:6379' })[0]).to.match(/^REDIS_URL: must be a redis/);
    expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_PREFIX: 'x{y}' })[0]).to.match(/^REDIS_PREFIX: /);
  });

  describe('Redis Cluster and Sentinel', () => {
    it('reads REDIS_CLUSTER_NODES with credentials and TLS', () => {
      const redis = loadConfig({
        REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.5:7001,[::1]:7002', REDIS_USERNAME: 'app', REDIS_PASSWORD: 'pw', REDIS_TLS: 'true',
      }).redis;
      expect(redis?.topology).to.deep.equal({
        kind: 'cluster',
        nodes: [{ host: 'redis-1', port: 7000 }, { host: '10.0.0.5', port: 7001 }, { host: '::1', port: 7002 }],
        username: 'app', password: 'pw', tls: true,
      });
      expect(redis?.prefix).to.equal('mcp-oauth:');
    });

    it('reads REDIS_SENTINELS with the group name and credentials for the sentinels and for the servers', () => {
      expect(loadConfig({
        REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_PASSWORD: 'data-pw',
        REDIS_SENTINEL_USERNAME: 'watcher', REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      }).redis?.topology).to.deep.equal({
        kind: 'sentinel',
        sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }],
        name: 'mymaster', sentinelUsername: 'watcher', sentinelPassword: 'sentinel-pw',
        username: undefined, password: 'data-pw', tls: false,
      });
    });

    it('reads REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS, within their bounds', () => {
      expect(loadConfig({ REDIS_URL: 'redis://h', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '500' }).redis)
        .to.include({ waitReplicas: 1, waitTimeoutMs: 500 });
      expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_WAIT_REPLICAS: '-1' })[0]).to.match(/^REDIS_WAIT_REPLICAS: must be from 0/);
      expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_WAIT_REPLICAS: 'one' })[0]).to.match(/^REDIS_WAIT_REPLICAS: must be a number/);
      expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_WAIT_TIMEOUT_MS: '5000' })[0]).to.match(/^REDIS_WAIT_TIMEOUT_MS: must be from 10 to 1000/);
    });

    for (const [env, pattern] of [
      [{ REDIS_URL: 'redis://h', REDIS_CLUSTER_NODES: 'r1:7000' }, /^REDIS_URL, REDIS_CLUSTER_NODES: set one of them, not both/],
      [{ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm' }, /^REDIS_CLUSTER_NODES, REDIS_SENTINELS: set one/],
      [{ REDIS_SENTINELS: 's1:26379' }, /^REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/],
      [{ REDIS_SENTINEL_NAME: 'mymaster', REDIS_URL: 'redis://h' }, /^REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS/],
      [{ REDIS_URL: 'redis://h', REDIS_PASSWORD: 'pw' }, /^REDIS_PASSWORD: REDIS_URL carries its own credentials/],
      [{ REDIS_TLS: 'true' }, /^REDIS_TLS: set REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS too/],
      [{ REDIS_CLUSTER_NODES: 'r1' }, /^REDIS_CLUSTER_NODES: entries must be host:port/],
      [{ REDIS_CLUSTER_NODES: 'r1:70000' }, /^REDIS_CLUSTER_NODES: entries must be host:port/],
      [{ REDIS_CLUSTER_NODES: ' , ' }, /^REDIS_CLUSTER_NODES: must list at least one/],
      [{ REDIS_SENTINELS: 'redis://s1:26379', REDIS_SENTINEL_NAME: 'm' }, /^REDIS_SENTINELS: entries must be host:port/],
      [{ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'my master' }, /^REDIS_SENTINEL_NAME: must be the name/],
      [{ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_TLS: 'maybe' }, /^REDIS_TLS: must be true or false/],
    ] as const) {
      it(`refuses ${JSON.stringify(env)}`, () => {
        expect(problemsOf(env)[0]).to.match(pattern);
      });
    }

    it('reports every contradiction at once, and never a password', () => {
      const problems = problemsOf({
        REDIS_URL: 'redis://h', REDIS_SENTINELS: 's1:26379', REDIS_PASSWORD: 'do-not-print-me', REDIS_SENTINEL_PASSWORD: 'nor-me',
      });
      expect(problems).to.have.length(3);
      expect(problems.join('\n')).to.not.match(/do-not-print-me|nor-me/);
    });
  });

  describe('NODE_ENV=production', () => {
    it('refuses every development default and names the variable to set', () => {
      const problems = problemsOf({ NODE_ENV: 'production' });
      expect(problems).to.have.length(3);
      expect(problems[0]).to.match(/^CLIENT1_SECRET: .*set CLIENT1_SECRET/);
      expect(problems[1]).to.match(/^COOKIE_KEYS: .*set COOKIE_KEYS or REDIS_URL/);
      expect(problems[2]).to.match(/^JWKS: .*set JWKS, JWKS_FILE or REDIS_URL/);
    });

    it('names only what is missing', () => {
      const problems = problemsOf({ ...productionReady, COOKIE_KEYS: '' });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^COOKIE_KEYS/);
    });

    it('starts with real secrets', () => {
      expect(loadConfig(productionReady).usesDevDefaults).to.deep.equal({ client1Secret: false, cookieKeys: false, jwks: false });
    });

    it('with REDIS_URL, generated keys are kept in Redis: only the client secret is still required', () => {
      const problems = problemsOf({ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379' });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^CLIENT1_SECRET/);
      expect(loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379', CLIENT1_SECRET: 'long-enough-secret' }).redis?.topology)
        .to.deep.equal({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
    });

    it('a Redis Cluster or a Sentinel group keeps generated keys as REDIS_URL does', () => {
      const secret = { NODE_ENV: 'production', CLIENT1_SECRET: 'long-enough-secret' };
      expect(loadConfig({ ...secret, REDIS_CLUSTER_NODES: 'r1:7000' }).usesDevDefaults).to.deep.equal({ client1Secret: false, cookieKeys: false, jwks: false });
      expect(loadConfig({ ...secret, REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'mymaster' }).usesDevDefaults.jwks).to.equal(false);
    });

    it('accepts the development defaults only when told so explicitly', () => {
      expect(loadConfig({ NODE_ENV: 'production', ALLOW_DEV_DEFAULTS: 'true' }).client1.secret).to.equal('secret1');
    });
  });
});
