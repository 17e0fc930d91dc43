import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * Redis for the tests: REDIS_URL when it is set (it must answer), otherwise a private redis-server started
 * on a free port for this test run. Without either, Redis tests are skipped on a developer's machine and fail
 * under CI=true, where they must run.
 */

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function answers(url: string, attempts = 1): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return true;
    } catch {
      // not up yet
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export const hasRedisServerBinary = () => spawnSync('redis-server', ['--version']).status === 0;

/** A redis-server of our own, which tests may stop and start again on the same port (outage tests). */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'redis-test-'));

  /** Persistent: every write is on disk before it is acknowledged, so a restart comes back with everything. */
  private constructor(readonly port: number, private readonly persistent: boolean) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async launch({ persistent = false } = {}): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), persistent);
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    const persistence = this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    this.child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', this.dir,
    ], { stdio: 'ignore' });
    const child = this.child;
    // Killed with this process, unless it ended first (a stop): restarts would otherwise pile up listeners.
    const kill = () => child.kill();
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    if (!(await answers(this.url, 50))) throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Stops the server's process without closing its connections (a stall): commands wait, then time out. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a frozen server go on: it runs what its clients sent meanwhile, timed out or not. */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.child;
    // Killed by a signal, a process has a signalCode and no exitCode.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

let shared: Promise<string | undefined> | undefined;

/** The Redis URL the tests share, or undefined when none can be had. */
export function testRedisUrl(): Promise<string | undefined> {
  shared ??= (async () => {
    const configured = process.env.REDIS_URL;
    if (configured) {
      if (await answers(configured, 3)) return configured;
      throw new Error(`REDIS_URL=${configured} does not answer`);
    }
    if (hasRedisServerBinary()) return (await OwnRedis.launch()).url;
    return undefined;
  })();
  return shared;
}

let counter = 0;
/** A key prefix no other test (or test run on a shared Redis) uses. */
export const uniquePrefix = () => `test:${process.pid}:${Date.now().toString(36)}:${++counter}:`;

/**
 * A before-hook for suites that need Redis: gives the URL, or skips the suite with the reason on a developer's
 * machine; under CI it fails instead, because CI must run these tests.
 */
export function requireRedis(): { url: string } {
  const holder = { url: '' };
  before(async function () {
    const url = await testRedisUrl();
    if (url) {
      holder.url = url;
      return;
    }
    const reason = 'no Redis: set REDIS_URL or install redis-server';
    if (process.env.CI) throw new Error(`${reason} (CI must run the Redis tests)`);
    console.warn(`    skipped: ${reason}`);
    this.skip();
  });
  return holder;
}

/**
 * For suites that start, stop and freeze redis-servers of their own: a before-hook that skips them without the
 * redis-server binary on a developer's machine (under CI it fails instead), and an after-hook that stops every
 * server they launched, frozen ones too. Returns the launcher.
 */
export function ownRedisServers(what: string): { launch(options?: { persistent?: boolean }): Promise<OwnRedis> } {
  const owned: OwnRedis[] = [];
  before(function () {
    if (hasRedisServerBinary()) return;
    const reason = `${what} start and stop a redis-server of their own: install redis-server`;
    if (process.env.CI) throw new Error(reason);
    console.warn(`    skipped: ${reason}`);
    this.skip();
  });
  after(async () => {
    for (const redis of owned) redis.thaw();
    await Promise.all(owned.map((redis) => redis.stop()));
  });
  return {
    async launch(options) {
      const redis = await OwnRedis.launch(options);
      owned.push(redis);
      return redis;
    },
  };
}
