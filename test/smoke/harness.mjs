// What every smoke driver shares: it starts the server with a COMMAND given on its command line (e.g. `bun run
// src/server.ts`, or another Node's `node --import tsx src/server.ts`) on a free port, runs its steps over HTTP in
// order, stops at the first failure, and exits non-zero if any failed, showing the server's output. Plain
// JavaScript on purpose: the drivers run on whatever Node runs CI, whatever runtime they test.
// REDIS_URL, when set, is passed on (with a prefix of its own), so a run covers the Redis storage too.
import { spawn, spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';

const START_TIMEOUT_MS = 60_000;

/** The server, started from this process's arguments; `name` is the driver's, for its usage line and its log. */
export function startServer(name) {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error(`usage: node test/smoke/${name}.mjs COMMAND [ARG...]`);
    process.exit(2);
  }
  const version = spawnSync(command, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const label = `${[command.split('/').pop(), version, ...args].join(' ')}${process.env.REDIS_URL ? ', Redis' : ', in memory'}`;

  // Only what the server needs: no ISSUER, PORT or NODE_ENV from the caller's environment.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'info' };
  if (process.env.REDIS_URL) Object.assign(env, { REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: `smoke:${process.pid}:${Date.now()}:` });

  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, label, output: '' };
  server.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  server.issuer = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      server.output += chunk;
      const found = /"msg":"listening on [^"]*, issuer (http[^"]+)"/.exec(server.output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { server.output += chunk; });
    child.on('error', (err) => reject(err));
    server.exited.then((code) => reject(new Error(`the server exited (${code}) before listening`)));
  });
  return server;
}

let passed = 0;
let failed = 0;
/** Each step needs the ones before it, so the first failure ends the walk. */
class Stop extends Error {}
export async function step(name, run) {
  try {
    await run();
    passed++;
    console.log(`  ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`  FAIL ${name}: ${err.message}`);
    throw new Stop();
  }
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** fetch, bounded: a server that hangs fails its step instead of holding CI until its time limit. */
export const request = (url, init = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });

/** Reads the body only when the status is wrong, to show it. */
export async function expectStatus(res, status) {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A token request whose headers the server has read and whose body has not all arrived: a request in flight. */
async function tokenRequestInFlight(base) {
  const body = 'grant_type=refresh_token&refresh_token=smoke&client_id=client1&client_secret=secret1';
  const req = httpRequest(new URL('/oauth/token', base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
  });
  // Settled with the error, if any, so that a server dying before the step awaits it fails the step, not the driver.
  const answer = new Promise((resolve) => {
    req.on('response', (res) => res.resume().on('end', () => resolve(res)));
    req.on('error', resolve);
  });
  req.write(body.slice(0, 10));
  await new Promise((resolve) => req.once('socket', (socket) => socket.once('connect', resolve)));
  await sleep(200);
  return { answer, finish: () => req.end(body.slice(10)) };
}

/** Runs `walk(issuer)` against `server`, stops the server cleanly (a step of its own), reports and exits. */
export async function run(server, title, walk) {
  try {
    const base = await server.issuer;
    console.log(`${title}: ${server.label} at ${base}`);
    await walk(base);
    await step('SIGTERM stops the server cleanly: a request in flight is answered, with Connection: close; exit code 0', async () => {
      const inFlight = await tokenRequestInFlight(base);
      server.child.kill('SIGTERM');
      await sleep(300);
      inFlight.finish();
      const res = await inFlight.answer;
      check(!(res instanceof Error), `no answer: ${res.message}`);
      check(res.headers.connection === 'close', `the answer says Connection: ${res.headers.connection}`);
      const code = await server.exited;
      check(code === 0, `exit ${code}`);
    });
  } catch (err) {
    if (!(err instanceof Stop)) {
      failed++;
      console.log(`  FAIL ${err.message}`);
    }
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  }
  if (failed) console.log(`server output:\n${server.output}`);
  console.log(`smoke: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
