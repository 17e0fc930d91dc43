// Usage: node test/smoke/seed-flow.mjs COMMAND [ARG...]   (run from the tree the command serves)
//
// Starts the server with COMMAND (e.g. `bun run src/server.ts`, or another Node's `node --import tsx src/server.ts`)
// on a free port, walks the seed flow over HTTP as the README's curl walk-through does (register, log in,
// authorize, the callback page, token, userinfo, refresh), stops it with SIGTERM, and exits non-zero if any step
// fails. Plain JavaScript on purpose: this driver runs on whatever Node runs CI, whatever runtime it tests.
// REDIS_URL, when set, is passed on (with a prefix of its own), so the run covers the Redis storage too.
import { spawn, spawnSync } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node test/smoke/seed-flow.mjs COMMAND [ARG...]');
  process.exit(2);
}
const version = spawnSync(command, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const label = `${[command.split('/').pop(), version, ...args].join(' ')}${process.env.REDIS_URL ? ', Redis' : ', in memory'}`;
const START_TIMEOUT_MS = 60_000;

// Only what the server needs: no ISSUER, PORT or NODE_ENV from the caller's environment.
const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'info' };
if (process.env.REDIS_URL) Object.assign(env, { REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: `smoke:${process.pid}:${Date.now()}:` });

const server = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve(code ?? signal)));
const issuer = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no "listening on" line within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  server.stdout.setEncoding('utf8').on('data', (chunk) => {
    output += chunk;
    const found = /"msg":"listening on [^"]*, issuer (http[^"]+)"/.exec(output);
    if (found) {
      clearTimeout(timer);
      resolve(found[1]);
    }
  });
  server.stderr.setEncoding('utf8').on('data', (chunk) => { output += chunk; });
  server.on('error', (err) => reject(err));
  exited.then((code) => reject(new Error(`the server exited (${code}) before listening`)));
});

let passed = 0;
let failed = 0;
/** Each step needs the ones before it, so the first failure ends the walk. */
class Stop extends Error {}
async function step(name, run) {
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
function check(condition, message) {
  if (!condition) throw new Error(message);
}
/** fetch, bounded: a server that hangs fails its step instead of holding CI until its time limit. */
const request = (url, init = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
/** Reads the body only when the status is wrong, to show it. */
async function expectStatus(res, status) {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

/** A browser's cookies, by name (one host). */
class Jar extends Map {
  keep(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }

  get header() {
    return [...this].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}
const cookies = new Jar();

try {
  const base = await issuer;
  console.log(`seed-flow smoke: ${label} at ${base}`);
  const user = { username: `smoke${process.pid}`, password: 'password123' };
  const callback = `${base}/callback`;
  const authorize = `${base}/oauth/authorize?${new URLSearchParams({
    client_id: 'client1', redirect_uri: callback, response_type: 'code', state: 'smoke_state',
  })}`;
  const client = { client_id: 'client1', client_secret: 'secret1' };
  let code;
  let tokens;

  await step('the login page renders for a browser without a session', async () => {
    const anonymous = new Jar();
    const redirect = anonymous.keep(await request(authorize, { redirect: 'manual' }));
    const page = new URL(redirect.headers.get('location') ?? '/', base);
    const res = await request(page, { headers: { cookie: anonymous.header } });
    const html = await res.text();
    check(res.status === 200 && page.pathname.startsWith('/interaction/'), `${res.status} at ${page.href}`);
    check(html.includes('<h1>Sign in</h1>'), 'no sign-in heading');
  });
  await step('POST /oauth/register', async () => {
    const res = await request(`${base}/oauth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user),
    });
    await expectStatus(res, 201);
  });
  await step('POST /oauth/login sets the session cookie', async () => {
    const res = await request(`${base}/oauth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user),
    });
    cookies.keep(res);
    await expectStatus(res, 200);
    check(cookies.has('_session'), `cookies: ${[...cookies.keys()].join(', ')}`);
  });
  await step('GET /oauth/authorize redirects to the callback with a code', async () => {
    const res = await request(authorize, { headers: { cookie: cookies.header }, redirect: 'manual' });
    const location = new URL(res.headers.get('location') ?? '/', base);
    check(res.status === 303 && location.href.startsWith(`${callback}?`), `${res.status} to ${location.href}`);
    check(location.searchParams.get('state') === 'smoke_state', `state ${location.searchParams.get('state')}`);
    code = location.searchParams.get('code');
    check(code, 'no code');
  });
  await step('GET /callback shows the code', async () => {
    const res = await request(`${callback}?${new URLSearchParams({ code, state: 'smoke_state' })}`);
    check(res.status === 200 && (await res.text()).includes(`value="${code}"`), `${res.status}, code not on the page`);
  });
  await step('POST /oauth/token exchanges the code', async () => {
    const res = await request(`${base}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callback, ...client }),
    });
    await expectStatus(res, 200);
    tokens = await res.json();
    check(tokens.token_type === 'Bearer' && tokens.access_token && tokens.refresh_token, JSON.stringify(tokens));
  });
  await step('GET /oauth/userinfo names the user', async () => {
    const res = await request(`${base}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    await expectStatus(res, 200);
    const info = await res.json();
    check(info.username === user.username, JSON.stringify(info));
  });
  await step('POST /oauth/token refreshes', async () => {
    const res = await request(`${base}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...client }),
    });
    await expectStatus(res, 200);
    check((await res.json()).access_token, 'no access token');
  });
  await step('SIGTERM stops the server cleanly (exit code 0)', async () => {
    server.kill('SIGTERM');
    const code = await exited;
    check(code === 0, `exit ${code}`);
  });
} catch (err) {
  if (!(err instanceof Stop)) {
    failed++;
    console.log(`  FAIL ${err.message}`);
  }
} finally {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
}

if (failed) console.log(`server output:\n${output}`);
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
