import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

/** The servers the tests started, killed when the test run exits however it ends. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill();
});

/**
 * How to run a redis-server beyond the defaults: `args` are added to its command line; `config` is written to a
 * config file of its own and given first (a sentinel must have one it can rewrite).
 */
export interface OwnRedisOptions {
  args?: string[];
  config?: string;
  /** Every write on disk before it is acknowledged, so that a restart comes back with everything. */
  persistent?: boolean;
}

/** A redis-server of our own, which tests may stop and start again on the same port (outage tests). */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'redis-test-'));

  private constructor(readonly port: number, private readonly options: OwnRedisOptions) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async launch(options: OwnRedisOptions = {}): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), options);
    // Written once: a restarted server reads what it rewrote there (a sentinel's view of its group).
    if (options.config !== undefined) writeFileSync(redis.configFile, options.config);
    await redis.start();
    return redis;
  }

  private get configFile() {
    return join(this.dir, 'redis.conf');
  }

  async start(): Promise<void> {
    const persistence = this.options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const child = spawn('redis-server', [
      ...(this.options.config !== undefined ? [this.configFile] : []),
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', this.dir,
      ...(this.options.args ?? []),
    ], { stdio: 'ignore' });
    this.child = child;
    children.add(child);
    child.once('exit', () => children.delete(child));
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

  /** Whether its process runs (killed by a signal, a process has a signalCode and no exitCode). */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
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

/** The keys under `prefix`, without it, sorted. */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    found.push(...batch.map((key) => key.slice(prefix.length)));
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
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
export function ownRedisServers(what: string): { launch(options?: OwnRedisOptions): Promise<OwnRedis> } {
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
