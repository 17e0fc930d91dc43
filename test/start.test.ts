import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { mcpToken, modernPost, modernRequest } from './helpers/mcp.js';
import { RawConnection } from './helpers/raw-http.js';
import { freePort, OwnRedis, requireRedis, uniquePrefix } from './helpers/redis.js';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface Started {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `npm start` as a newcomer runs it: a separate process, configured only by its environment (and .env). */
function launch(env: Record<string, string>, cwd = process.cwd()): Started {
  const child = spawn(process.execPath, ['--import', TSX, SERVER], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, stderr: () => err, exited };
}

async function listening(started: Started): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = started.lines.find((l) => l.includes('listening on'));
    if (line) return (JSON.parse(line) as { msg: string }).msg.match(/issuer (\S+)/)![1]!;
    if (started.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not start: ${started.stderr()}`);
}

/** Resolves once `started` has logged a line containing `text`. */
async function logged(started: Started, text: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (started.lines.some((l) => l.includes(text))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never logged "${text}": ${started.lines.join('\n')}`);
}

interface Answer {
  status: number;
  body: string;
  /** Its Connection header. */
  connection: string | undefined;
}

interface Registration {
  /** Its answer, or the error that ended it without one. */
  answer: Promise<Answer | Error>;
  /** Sends the rest of the body. */
  finish(): void;
}

/** A registration whose body has half arrived, once the server holds its connection: a request in flight. */
async function registrationInFlight(issuer: string): Promise<Registration> {
  const { port } = new URL(issuer);
  const req = request({ host: '127.0.0.1', port, path: '/oauth/register', method: 'POST', headers: { 'content-type': 'application/json' } });
  const answer = new Promise<Answer | Error>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; })
        .on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    });
    req.on('error', resolve);
  });
  req.write(`{"username":"shutdown${process.pid}x${Date.now()}",`);
  await new Promise((resolve) => req.once('socket', (socket) => socket.once('connect', resolve)));
  await new Promise((r) => setTimeout(r, 200));
  return { answer, finish: () => req.end('"password":"password123"}') };
}

/** Whether a new TCP connection to the issuer's port is accepted. */
function accepts(issuer: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(issuer).port), '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

describe('starting the server process', function () {
  this.timeout(30000);

  it('starts in memory, says so in one log line, serves the seed endpoints and stops cleanly on SIGTERM', async () => {
    const started = launch({ PORT: '0' });
    const issuer = await listening(started);
    expect(issuer).to.match(/^http:\/\/localhost:\d+$/);
    const storage = started.lines.filter((l) => /in memory/.test(l));
    expect(storage).to.have.length(1);
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect((await discovery.json()).issuer).to.equal(issuer);
    started.child.kill('SIGTERM');
    expect(await started.exited).to.equal(0);
  });

  it('on SIGTERM, a request already in flight still gets its answer before the process exits 0', async () => {
    const started = launch({ PORT: '0' });
    const registration = await registrationInFlight(await listening(started));
    started.child.kill('SIGTERM');
    setTimeout(() => registration.finish(), 300);
    const answer = await registration.answer;
    expect(answer).to.not.be.instanceOf(Error);
    const { status, body, connection } = answer as Answer;
    expect(status).to.equal(201);
    expect(JSON.parse(body).message).to.equal('Registration successful');
    // Its headers were not written yet when the shutdown began: the client learns not to reuse the connection.
    expect(connection).to.equal('close');
    expect(await started.exited).to.equal(0);
    expect(started.lines.join('\n')).to.include('SIGTERM: shutting down');
  });

  it('on SIGTERM, refuses new connections at once, while a request in flight keeps the process up', async () => {
    const started = launch({ PORT: '0' });
    const issuer = await listening(started);
    expect(await accepts(issuer)).to.equal(true);
    const registration = await registrationInFlight(issuer);
    started.child.kill('SIGTERM');
    await logged(started, 'SIGTERM: shutting down');
    expect(await accepts(issuer)).to.equal(false);
    expect(started.child.exitCode, 'still draining').to.equal(null);
    registration.finish();
    expect(await registration.answer).to.include({ status: 201 });
    expect(await started.exited).to.equal(0);
  });

  it('on SIGTERM, cuts a request that outlasts SHUTDOWN_GRACE_MS and exits 0 then, not later', async () => {
    const started = launch({ PORT: '0', SHUTDOWN_GRACE_MS: '3000' });
    const registration = await registrationInFlight(await listening(started));
    const signalled = Date.now();
    started.child.kill('SIGTERM');
    // Its body never ends: only the grace bound can end it.
    expect(await registration.answer).to.be.instanceOf(Error);
    expect(await started.exited).to.equal(0);
    const seconds = (Date.now() - signalled) / 1000;
    expect(seconds).to.be.within(2.9, 5);
    expect(started.lines.join('\n')).to.include('requests still running after 3 s; closing their connections');
  });

  it('on SIGTERM, answers a request sent on an idle kept-alive connection with Connection: close, then exits 0', async () => {
    const started = launch({ PORT: '0' });
    const issuer = await listening(started);
    const pooled = await RawConnection.open(issuer);
    pooled.get('/healthz', new URL(issuer).host);
    expect((await pooled.response()).headers).to.include({ connection: 'keep-alive' });
    started.child.kill('SIGTERM');
    await logged(started, 'SIGTERM: shutting down');
    // What a proxy does that has not heard of the shutdown yet: it reuses its idle connection.
    pooled.get('/.well-known/openid-configuration', new URL(issuer).host);
    const res = await pooled.response();
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body).issuer).to.equal(issuer);
    expect(res.headers).to.include({ connection: 'close' });
    await pooled.closed;
    expect(await started.exited).to.equal(0);
  });

  it('on SIGTERM, closes idle connections after SHUTDOWN_DRAIN_MS, and exits 0 then', async () => {
    const started = launch({ PORT: '0', SHUTDOWN_DRAIN_MS: '1500' });
    const issuer = await listening(started);
    const pooled = await RawConnection.open(issuer);
    pooled.get('/healthz', new URL(issuer).host);
    await pooled.response();
    const signalled = Date.now();
    started.child.kill('SIGTERM');
    await pooled.closed;
    expect((Date.now() - signalled) / 1000).to.be.within(1.4, 3);
    // Only the one response: no 408 for the idle connection (a request id may well contain "408").
    expect(pooled.received.match(/^HTTP\/1\.1 \d{3}/gm)).to.deep.equal(['HTTP/1.1 200']);
    expect(await started.exited).to.equal(0);
  });

  it('on SIGTERM, ends an open 2026-07-28 subscription stream with its final result and exits without waiting out the grace', async () => {
    const started = launch({ PORT: '0' });
    const issuer = await listening(started);
    const { token } = await mcpToken(issuer);
    const res = await modernPost(issuer, token, modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } }));
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let stream = new TextDecoder().decode((await reader.read()).value);
    expect(stream).to.include('notifications/subscriptions/acknowledged');
    const signalled = Date.now();
    started.child.kill('SIGTERM');
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) stream += new TextDecoder().decode(chunk.value);
    // The subscription's own end: the listen request answered, complete, rather than a cut connection.
    expect(stream).to.match(/"resultType":"complete"/);
    expect(await started.exited).to.equal(0);
    expect((Date.now() - signalled) / 1000).to.be.below(5);
  });

  it('reads a .env file from the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    writeFileSync(join(dir, '.env'), 'PORT=0\nISSUER=http://localhost:4999\n');
    const started = launch({}, dir);
    expect(await listening(started)).to.equal('http://localhost:4999');
    started.child.kill('SIGTERM');
    await started.exited;
  });

  it('refuses to start in production on development defaults, naming each variable to set', async () => {
    const started = launch({ NODE_ENV: 'production', PORT: '0' });
    expect(await started.exited).to.equal(1);
    const err = started.stderr();
    for (const name of ['CLIENT1_SECRET', 'COOKIE_KEYS', 'JWKS']) expect(err).to.include(`set ${name}`);
    expect(err).to.not.match(/\n\s+at /, 'no stack trace');
  });

  it('refuses a bad value with one clear line and no stack trace', async () => {
    const started = launch({ PORT: 'eighty' });
    expect(await started.exited).to.equal(1);
    expect(started.stderr()).to.include('PORT: must be a number').and.not.match(/\n\s+at /);
  });

  it('says so clearly when the port is taken', async () => {
    const first = launch({ PORT: '0' });
    const port = new URL(await listening(first)).port;
    const second = launch({ PORT: port });
    expect(await second.exited).to.equal(1);
    expect(second.lines.join('\n')).to.include(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    first.child.kill('SIGTERM');
    await first.exited;
  });

  it('on SIGTERM while it still waits for its Redis, exits 0 at once', async () => {
    const port = await freePort();
    const started = launch({ PORT: String(port), REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_PREFIX: uniquePrefix() });
    const issuer = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && !(await accepts(issuer)); i++) await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${issuer}/readyz`)).status, 'not ready: no Redis').to.equal(503);
    started.child.kill('SIGTERM');
    expect(await started.exited).to.equal(0);
  });

  describe('on Redis', () => {
    requireRedis();

    it('on SIGTERM, lets a request in flight use Redis to the end, then closes its Redis connections and exits 0', async () => {
      const own = await OwnRedis.launch();
      const observer = new Redis(own.url);
      // The connections on the Redis other than the observer's own.
      const others = async () => Number(/connected_clients:(\d+)/.exec(await observer.info('clients'))![1]) - 1;
      try {
        expect(await others()).to.equal(0);
        const started = launch({ PORT: '0', REDIS_URL: own.url, REDIS_PREFIX: uniquePrefix() });
        const registration = await registrationInFlight(await listening(started));
        expect(await others()).to.be.at.least(1);
        started.child.kill('SIGTERM');
        await logged(started, 'SIGTERM: shutting down');
        registration.finish();
        expect(await registration.answer).to.include({ status: 201 });
        expect(await started.exited).to.equal(0);
        // Redis may read the closed sockets after it answers us: give it a moment.
        for (let i = 0; i < 20 && await others() > 0; i++) await new Promise((r) => setTimeout(r, 50));
        expect(await others()).to.equal(0);
      } finally {
        observer.disconnect();
        await own.stop();
      }
    });
  });
});
