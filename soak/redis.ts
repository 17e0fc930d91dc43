import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * The soak's own redis-server, on a port of its own, with every write on disk before it is acknowledged (AOF,
 * fsync always): killed and started again on the same port and directory, it comes back with everything.
 */
export class SoakRedis {
  private child: ChildProcess | undefined;
  private readonly observer: Redis;

  constructor(readonly port: number, private readonly dir: string) {
    // The soak's own view of memory: it must not wait out an outage, nor queue its questions meanwhile.
    this.observer = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 100 });
    this.observer.on('error', () => {});
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always', '--logfile', join(this.dir, 'redis.log'),
    ], { stdio: 'ignore' });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`cannot run redis-server (${err.message}): install it`)));
    });
    if (this.observer.status === 'wait') await this.observer.connect().catch(() => {});
    for (let i = 0; i < 100; i++) {
      if (await this.usedMemory() !== undefined) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on port ${this.port}; see ${join(this.dir, 'redis.log')}`);
  }

  /** Kills the process (no shutdown save: what it acknowledged must already be in the AOF). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** INFO's used_memory, in bytes; undefined while it does not answer. */
  async usedMemory(): Promise<number | undefined> {
    try {
      const info = await this.observer.info('memory');
      return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.observer.disconnect();
    await this.kill();
  }
}
