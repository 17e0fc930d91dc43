import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { capacityOptions, measureCapacity } from './capacity.js';
import { capacityPlan } from './capacity-plan.js';
import { capacityReport } from './capacity-report.js';
import { authorizeSignedIn, client1, logIn, signUp } from './journeys.js';
import { load, median, type LoadResult } from './load.js';
import { startPrivateRedis } from './private-redis.js';
import { freePort, residentBytes, spawnServer, type Child } from './processes.js';
import { startupAndMemory } from './startup.js';

/*
 * npm run bench: every measurement runs next to its baseline in the same run, in alternating rounds, and is
 * reported as the median of the rounds and as a ratio. Servers run in their own processes; the load comes from
 * this one. Absolute numbers are "on this machine" only (2 shared cores here): the ratios are the result.
 */

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LOG_LEVEL = 'warn';

const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
const WHOAMI = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } });
/** The same call in MCP revision 2026-07-28: its version and the client's capabilities in `_meta`, method and name in headers. */
const MODERN_HEADERS = { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' };
const MODERN_WHOAMI = JSON.stringify({
  jsonrpc: '2.0', id: 1, method: 'tools/call',
  params: { name: 'whoami', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
});

export interface Row {
  measurement: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  ratio?: number;
  target?: string;
  met?: boolean;
}

const rows: Row[] = [];
const report = (row: Row) => {
  rows.push(row);
  const vs = row.baseline ? ` vs ${row.baseline.name} ${row.baseline.value.toFixed(0)} → ×${row.ratio!.toFixed(2)}` : '';
  const target = row.target ? ` (target ${row.target}: ${row.met ? 'met' : 'MISSED'})` : '';
  console.log(`  ${row.measurement}: ${row.value.toFixed(row.unit === 'ms' ? 1 : 0)} ${row.unit}${vs}${target}`);
};

/**
 * Runs each named load once per round, alternating, and returns every run per name. A first, unrecorded round
 * warms every server up: a fresh process runs its first seconds unoptimized.
 */
async function alternate(loads: Record<string, () => Promise<LoadResult>>): Promise<Record<string, LoadResult[]>> {
  const runs: Record<string, LoadResult[]> = Object.fromEntries(Object.keys(loads).map((name) => [name, []]));
  for (const run of Object.values(loads)) await run();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(loads)) {
      const result = await run();
      if (result.errors || result.non2xx) throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
      runs[name]!.push(result);
    }
  }
  return runs;
}

const rps = (results: LoadResult[]) => median(results.map((r) => r.requestsPerSecond));
/** Requests one core of the server sustains: 1000 ms over the median CPU milliseconds per request. */
const capacity = (results: LoadResult[]) => 1000 / median(results.map((r) => r.cpuMsPerRequest));

let users = 0;
const newUser = () => ({ username: `bench${process.pid}x${Date.now().toString(36)}x${++users}`, password: 'bench-password-123' });

/** A new user signed in through the JSON login, and an MCP access token for client1. */
async function signedIn(base: string) {
  const user = newUser();
  await signUp(base, user);
  const browser = await logIn(base, user);
  return { browser, tokens: await authorizeSignedIn(browser, client1(base)) };
}

/** client1's code exchange as in the walk-through: its secret, no PKCE. */
const exchangeCode = (base: string, code: string) => fetch(`${base}/oauth/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${base}/callback`, client_id: 'client1', client_secret: 'secret1' }),
});

/** Complete authorization-code flows (authorize with a session → code → token) per second, by `workers` loops. */
async function codeFlowsPerSecond(base: string, cookie: string, workers = 8): Promise<number> {
  const authorize = `${base}/oauth/authorize?client_id=client1&redirect_uri=${encodeURIComponent(`${base}/callback`)}&response_type=code&state=s`;
  const until = performance.now() + SECONDS * 1000;
  let flows = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < until) {
      const res = await fetch(authorize, { headers: { cookie }, redirect: 'manual' });
      const code = new URL(res.headers.get('location')!).searchParams.get('code');
      if (!code) throw new Error(`no code: ${res.status} ${res.headers.get('location')}`);
      const token = await exchangeCode(base, code);
      if (token.status !== 200) throw new Error(`token endpoint: ${token.status}`);
      await token.arrayBuffer();
      flows++;
    }
  }));
  return flows / SECONDS;
}

async function main() {
  // REDIS_URL, or a redis-server of the benchmark's own.
  const privateRedis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = process.env.REDIS_URL ?? privateRedis!.url;
  const prefix = `bench:${process.pid}:${Date.now().toString(36)}:`;
  const redisEnv = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LOG_LEVEL };
  const servers: Child[] = [];
  const spawn = async (entry: string, env: Record<string, string>, ready: string) => {
    const child = await spawnServer(entry, await freePort(), env, ready);
    servers.push(child);
    return child;
  };

  try {
    console.log(`bench: ${ROUNDS} rounds of ${SECONDS} s per measurement, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`);
    const onRedis = await spawn('src/server.ts', redisEnv, '/readyz');
    const inMemory = await spawn('src/server.ts', { LOG_LEVEL }, '/readyz');
    const withoutAuth = await spawn('bench/server-without-auth.ts', redisEnv, '/readyz');
    // onRedis without the per-client error limit (same storage and issuer, so its tokens are good here): what the
    // limit costs each token request.
    const withoutClientLimit = await spawn('src/server.ts', { ...redisEnv, ISSUER: onRedis.url, LIMIT_TOKEN_ERRORS_PER_CLIENT_AND_IP: '0' }, '/readyz');
    const sdk = await spawn('bench/sdk-stateless.ts', {}, '/healthz');
    const sdkV2 = await spawn('bench/sdk-v2-handler.ts', {}, '/healthz');

    console.log('1. MCP tools/call whoami (Redis storage)');
    const { tokens } = await signedIn(onRedis.url);
    const mcp = (server: Child, token: string, modern = false) => () => load({
      url: `${server.url}/mcp`, method: 'POST', body: modern ? MODERN_WHOAMI : WHOAMI, pid: server.pid,
      headers: { ...(modern ? MODERN_HEADERS : MCP_HEADERS), authorization: `Bearer ${token}` }, seconds: SECONDS,
    });
    // The same request everywhere, bearer token included: the variants differ only in what the server does.
    const mcpRuns = await alternate({
      ours: mcp(onRedis, tokens.access_token), sdk: mcp(sdk, tokens.access_token), withoutAuth: mcp(withoutAuth, tokens.access_token),
      oursModern: mcp(onRedis, tokens.access_token, true), sdkV2: mcp(sdkV2, tokens.access_token, true),
    });
    const compare = (name: string, a: LoadResult[], b: LoadResult[], baseline: string, target: string, meets: (ratio: number) => boolean) => {
      report({ measurement: `${name}, measured`, value: rps(a), unit: 'req/s', baseline: { name: baseline, value: rps(b) }, ratio: rps(a) / rps(b) });
      const ratio = capacity(a) / capacity(b);
      report({ measurement: `${name}, per core (server CPU per request)`, value: capacity(a), unit: 'req/s', baseline: { name: baseline, value: capacity(b) }, ratio, target, met: meets(ratio) });
    };
    compare('whoami 2025-06-18, ours (bearer checked)', mcpRuns.ours!, mcpRuns.sdk!, 'SDK v1 stateless pattern, no auth', '≥ 3×', (r) => r >= 3);
    compare('whoami 2026-07-28, ours (bearer checked)', mcpRuns.oursModern!, mcpRuns.sdkV2!, 'SDK v2 createMcpHandler, no auth', '≥ 3×', (r) => r >= 3);
    compare('whoami, ours vs ours without the bearer check', mcpRuns.ours!, mcpRuns.withoutAuth!, 'without bearer check', 'auth costs ≤ 10% (≥ 0.90×)', (r) => r >= 0.9);

    console.log('2. Token endpoint');
    const refreshBody = (refreshToken: string) => new URLSearchParams({
      grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'client1', client_secret: 'secret1',
    }).toString();
    const memorySession = await signedIn(inMemory.url);
    const refresh = (server: Child, refreshToken: string) => () => load({
      url: `${server.url}/oauth/token`, method: 'POST', body: refreshBody(refreshToken), pid: server.pid,
      headers: { 'content-type': 'application/x-www-form-urlencoded' }, seconds: SECONDS,
    });
    const refreshRuns = await alternate({
      redis: refresh(onRedis, tokens.refresh_token),
      memory: refresh(inMemory, memorySession.tokens.refresh_token),
      withoutClientLimit: refresh(withoutClientLimit, tokens.refresh_token),
    });
    const refreshRedis = rps(refreshRuns.redis!);
    report({ measurement: 'refresh_token grants (Redis)', value: refreshRedis, unit: '/s', baseline: { name: 'memory', value: rps(refreshRuns.memory!) }, ratio: refreshRedis / rps(refreshRuns.memory!), target: '≥ 1,000/s', met: refreshRedis >= 1000 });
    const limitRatio = capacity(refreshRuns.redis!) / capacity(refreshRuns.withoutClientLimit!);
    report({ measurement: 'refresh_token grants per core, with the client error limit (Redis)', value: capacity(refreshRuns.redis!), unit: '/s', baseline: { name: 'limit off', value: capacity(refreshRuns.withoutClientLimit!) }, ratio: limitRatio });

    const redisCookie = (await signedIn(onRedis.url)).browser.cookieHeader();
    const memoryCookie = memorySession.browser.cookieHeader();
    const flows = { redis: [] as number[], memory: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      flows.redis.push(await codeFlowsPerSecond(onRedis.url, redisCookie));
      flows.memory.push(await codeFlowsPerSecond(inMemory.url, memoryCookie));
    }
    const flowsRedis = median(flows.redis);
    report({ measurement: 'authorization-code flows, authorize → code → token (Redis)', value: flowsRedis, unit: '/s', baseline: { name: 'memory', value: median(flows.memory) }, ratio: flowsRedis / median(flows.memory), target: '≥ 300/s', met: flowsRedis >= 300 });

    console.log('3. Logins under load (Redis)');
    const user = newUser();
    await signUp(onRedis.url, user);
    const logins = () => load({ url: `${onRedis.url}/oauth/login`, method: 'POST', body: JSON.stringify(user), headers: { 'content-type': 'application/json' }, connections: 8, seconds: SECONDS, pid: onRedis.pid });
    const paced = () => load({ url: `${onRedis.url}/mcp`, method: 'POST', body: WHOAMI, headers: { ...MCP_HEADERS, authorization: `Bearer ${tokens.access_token}` }, connections: 4, overallRate: 200, seconds: SECONDS, pid: onRedis.pid });
    const idle: number[] = [];
    const flooded: number[] = [];
    const loginRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      idle.push((await paced()).p99);
      const [whileFlooded, flood] = await Promise.all([paced(), logins()]);
      flooded.push(whileFlooded.p99);
      loginRates.push(flood.requestsPerSecond);
    }
    report({ measurement: 'argon2id logins (m=19 MiB, t=2, p=1)', value: median(loginRates), unit: '/s' });
    const idleP99 = median(idle);
    const floodedP99 = median(flooded);
    report({ measurement: 'p99 of /mcp whoami at 200 req/s while logins flood', value: floodedP99, unit: 'ms', baseline: { name: 'idle p99', value: idleP99 }, ratio: floodedP99 / idleP99, target: '≤ 2× idle', met: floodedP99 <= 2 * idleP99 });

    console.log('4. Footprint');
    const rss = await residentBytes(onRedis.pid);
    if (rss) report({ measurement: 'resident memory of the Redis-backed server after the runs', value: rss / 2 ** 20, unit: 'MiB' });
    const fresh = await spawn('src/server.ts', { ...redisEnv, REDIS_PREFIX: `${prefix}fresh:` }, '/.well-known/openid-configuration');
    report({ measurement: 'start to first answered request (Redis)', value: fresh.startMs, unit: 'ms' });
    await signedIn(fresh.url);
    // One user's session, grant, tokens and used code: every key but the account, key material and the limits'
    // counters, which are per address (login, and token requests per client) and last their window (15 min).
    const freshPrefix = `${prefix}fresh:`;
    report({ measurement: 'Redis bytes per active user session', value: await redisBytes(redisUrl, freshPrefix, (key) => !/:(account|account-id|keys|consents|notes|limit):/.test(key)), unit: 'bytes' });
    report({ measurement: 'Redis bytes of the limit counters one signed-in address leaves for 15 minutes', value: await redisBytes(redisUrl, freshPrefix, (key) => key.startsWith(`${freshPrefix}limit:`)), unit: 'bytes' });

    console.log('5. Start and memory: npm start and tsx against the compiled server');
    await startupAndMemory({ REDIS_URL: redisUrl, REDIS_PREFIX: `${prefix}startup:` }, 'Redis', report);

    console.log('6. Capacity (the server on a Redis of its own)');
    const measured = await measureCapacity(capacityOptions());
    const plan = capacityPlan(measured);
    for (const line of capacityReport(measured, plan)) console.log(`  ${line}`);

    writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      rounds: ROUNDS, secondsPerRound: SECONDS, logLevel: LOG_LEVEL, rows,
      capacity: { date: new Date().toISOString(), ...measured, plan },
    }, null, 2)}\n`);
    console.log('results written to bench/results.json');
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await deleteKeys(redisUrl, prefix);
    await privateRedis?.stop();
  }
}

/** Redis memory of the keys under `prefix` whose names match `include`. */
async function redisBytes(url: string, prefix: string, include: (key: string) => boolean): Promise<number> {
  const redis = new Redis(url);
  try {
    let bytes = 0;
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
      for (const key of keys as string[]) if (include(key)) bytes += Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
    }
    return bytes;
  } finally {
    redis.disconnect();
  }
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length) await redis.del(...(keys as string[]));
  }
  redis.disconnect();
}

await main().then(() => process.exit(0), (err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
