import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../bench/processes.js';
import { finalChecks } from './checks.js';
import { sleep } from './client.js';
import { faultSchedule, injectFaults } from './faults.js';
import { Instance } from './instances.js';
import { MemorySampler } from './memory.js';
import { RoundRobinProxy } from './proxy.js';
import { SoakRedis } from './redis.js';
import { answersTable, checksTable, explainedList, faultsTable, memoryTable, problemList } from './summary.js';
import { readSettings } from './settings.js';
import { Tally } from './tally.js';
import { Traffic } from './traffic.js';

/*
 * npm run soak: two server instances sharing one Redis (AOF, fsync always) behind a round-robin proxy, users signing
 * up, signing in, authorizing, refreshing and writing notes over MCP while an instance is killed, Redis is killed
 * and an instance is stopped; then every acknowledged write, refresh chain, access token and account is checked.
 * Exits 1 on a lost write, a dead chain or token, a user who cannot sign in, a 500 or any unexplained error.
 */

/** The per-IP abuse limits count every simulated user as one client: all the traffic comes from 127.0.0.1. */
const NO_LIMITS = Object.fromEntries([
  'LOGIN_FAILURES_PER_USERNAME', 'LOGIN_FAILURES_PER_IP', 'REGISTRATIONS_PER_IP', 'CLIENT_REGISTRATIONS_PER_IP',
  'TOKEN_ERRORS_PER_CLIENT_AND_IP', 'DEVICE_CODE_FAILURES_PER_IP', 'ANONYMOUS_RECORDS_PER_IP',
].map((name) => [`LIMIT_${name}`, '0']));

/**
 * The lines an instance logged at level error (50) or fatal (60), and the first line of anything else it printed
 * (an uncaught exception), except oidc-provider's warning about the Node version.
 */
function loggedErrors(instance: Instance): string[] {
  return readFileSync(instance.logFile, 'utf8').split('\n')
    .filter((line) => /"level":(50|60)/.test(line) || (line && !line.startsWith('{') && !/Unsupported runtime|oidc-provider|^\s+at |^\s*$/.test(line)));
}

const settings = readSettings();
const dir = mkdtempSync(join(tmpdir(), 'soak-'));
console.log(`soak: ${settings.seconds} s, ${settings.users} users at once, ~${settings.thinkMs} ms between actions; logs in ${dir}`);

const redis = new SoakRedis(await freePort(), dir);
const upstreams = [{ name: 'A', port: await freePort() }, { name: 'B', port: await freePort() }];
const proxy = new RoundRobinProxy(upstreams);
const base = `http://127.0.0.1:${await proxy.listen()}`;
const env = { ISSUER: base, TRUST_PROXY: '1', REDIS_URL: redis.url, LOG_LEVEL: 'warn', ...NO_LIMITS };
const instances = upstreams.map(({ name, port }) => new Instance(name, port, env, dir)) as [Instance, Instance];
// However the soak ends, nothing it started outlives it.
process.once('exit', () => {
  for (const instance of instances) void instance.stop('SIGKILL');
  void redis.kill();
});

await redis.start();
await Promise.all(instances.map((i) => i.start()));
console.log(`  Redis ${redis.url} (AOF, fsync always), instances ${instances.map((i) => `${i.name} ${i.url}`).join(', ')}, proxy ${base}`);

const tally = new Tally();
const memory = new MemorySampler(instances, redis, tally);
memory.start();
const traffic = new Traffic(base, tally, settings.thinkMs);
traffic.start(settings.users);
const faults = injectFaults(faultSchedule(instances, redis), settings.seconds, instances, tally);
await sleep(settings.seconds * 1000);
console.log(`  ${settings.seconds} s: traffic stops; waiting for the users' last actions`);
await traffic.stop();
const trafficEnd = tally.now();
const records = await faults;
memory.stop();

console.log(`  ${(tally.now() / 1000).toFixed(1)} s: final checks of ${traffic.users.length} users`);
const verdict = await finalChecks(traffic.users, tally);
console.log(`  ${(tally.now() / 1000).toFixed(1)} s: checked`);
const errorLines = instances.flatMap((i) => loggedErrors(i).map((line) => `${i.name}: ${line.slice(0, 300)}`));

console.log('\nanswers by operation and status (storage-away: a 200 whose tool result said storage is unavailable)');
console.log(answersTable(tally));
console.log('\nfaults (times from the fault\'s start; errors until the next fault)');
console.log(faultsTable(records, tally, trafficEnd));
console.log('\nmemory (instances restart: A#2 is A\'s second process)');
console.log(memoryTable(memory.samples[0], memory.perMinute()));
console.log('\nfinal checks');
console.log(checksTable(verdict));
console.log('\nexpected events (explained by the faults)');
console.log(explainedList(tally, proxy.gatewayErrors));
console.log(`\nerrors the instances logged (${errorLines.length}; logs in ${dir})`);
console.log(errorLines.slice(0, 20).map((line) => `  ${line}`).join('\n') || '  none');
console.log('\nunexplained problems');
console.log(problemList(tally));

const failures = [
  [verdict.writesLost, 'acknowledged writes lost'],
  [verdict.chainsDead, 'refresh chains dead'],
  [verdict.accessTokensDead, 'access tokens refused'],
  [verdict.signInsFailed, 'users who cannot sign in'],
  [tally.count(500), 'answers 500'],
  [tally.problems.length, 'unexplained problems'],
  [errorLines.length, 'errors logged by the instances'],
].filter(([n]) => Number(n) > 0).map(([n, what]) => `${n} ${what}`);
console.log(`\n${failures.length ? `FAIL: ${failures.join(', ')}` : 'PASS'}`);

await Promise.all(instances.map((i) => i.stop('SIGTERM')));
await proxy.close();
await redis.close();
process.exit(failures.length ? 1 : 0);
