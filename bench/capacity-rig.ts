import { Redis } from 'ioredis';
import { load } from './load.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { cpuMs, freePort, spawnServer, type Child } from './processes.js';
import { difference, RedisMeter, type RedisCounters } from './redis-meter.js';

/** One operation, counted by Redis: every figure is per operation. */
export interface OperationCost {
  operation: string;
  repetitions: number;
  /** Every command Redis ran, those that scripts ran included. */
  commands: number;
  /** Commands the server sent (seen by MONITOR, not run by a script); the rest ran inside scripts. */
  commandsSent: number;
  perCommand: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  /** used_memory, without client buffers, after the operation less before. */
  usedMemory: number;
  /** MEMORY USAGE of the keys, after less before, by kind of key (see keyKind). */
  stored: Record<string, number>;
}

/** One operation under load: CPU milliseconds per operation, of Redis and of the server's process. */
export interface LoadedCost {
  operation: string;
  operations: number;
  perSecond: number;
  redisCpuMs: number;
  serverCpuMs: number;
}

/** Extra runs of each counted operation, under MONITOR, that tell the commands the server sent from those scripts ran. */
const MONITORED = 2;
/** Concurrent loops under load. */
const WORKERS = 8;
const PREFIX = 'capacity:';

/**
 * The kind of a key, from its name under the prefix: the model or store (`AccessToken`, `Session:uid`, `account`),
 * `grant` for the index of a grant's tokens, `limit:<name>` for a limit's counter of one address.
 */
export function keyKind(key: string): string {
  if (key.startsWith('limit:')) return key.split(':').slice(0, 2).join(':');
  return key.replace(/:?\{.*$/s, '');
}

function storedByKind(before: Map<string, number>, after: Map<string, number>, repetitions: number): Record<string, number> {
  const stored: Record<string, number> = {};
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const kind = keyKind(key);
    stored[kind] = (stored[kind] ?? 0) + ((after.get(key) ?? 0) - (before.get(key) ?? 0)) / repetitions;
  }
  return Object.fromEntries(Object.entries(stored).filter(([, bytes]) => bytes !== 0));
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

const perOperation = (counters: RedisCounters, repetitions: number) => ({
  commands: sum(Object.values(counters.calls)) / repetitions,
  perCommand: Object.fromEntries(Object.entries(counters.calls).sort(([a], [b]) => a.localeCompare(b)).map(([command, calls]) => [command, calls / repetitions])),
  bytesIn: counters.inputBytes / repetitions,
  bytesOut: counters.outputBytes / repetitions,
  usedMemory: counters.usedMemory / repetitions,
});

/**
 * The real server on a redis-server of its own, with what counts what each operation costs: Redis's counters for
 * commands, bytes and memory, MONITOR for the commands sent, and the CPU time of both processes under load.
 */
export class CapacityRig {
  /** Redis's CPU milliseconds per second with nothing to do (its timers): not a cost of the operations under load. */
  private idleCpuMsPerSecond: number | undefined;

  private constructor(private readonly redis: PrivateRedis, private readonly meter: RedisMeter, private readonly server: Child) {}

  static async start(): Promise<CapacityRig> {
    const redis = await startPrivateRedis();
    const server = await spawnServer('src/server.ts', await freePort(), {
      REDIS_URL: redis.url, REDIS_PREFIX: PREFIX, LOG_LEVEL: 'warn',
      // The limits count as they do in production, on counters that cannot run out here: one address does it all.
      LIMIT_REGISTRATIONS_PER_IP: '1000000', LIMIT_CLIENT_REGISTRATIONS_PER_IP: '1000000', LIMIT_ANONYMOUS_RECORDS_PER_IP: '1000000',
    }, '/readyz').catch(async (err: unknown) => {
      await redis.stop();
      throw err;
    });
    return new CapacityRig(redis, new RedisMeter(redis.url), server);
  }

  get base(): string {
    return this.server.url;
  }

  redisVersion(): Promise<string> {
    return this.meter.version();
  }

  /** What underLoad took off Redis's CPU time as its timers' (0 before the first run under load). */
  get redisIdleCpuMsPerSecond(): number {
    return this.idleCpuMsPerSecond ?? 0;
  }

  /**
   * Runs `step(i)` for i below `repetitions`, one at a time, counted; then for MONITORED more i, under MONITOR. Each
   * run of `step` is one operation; those that need something made beforehand find it at their own i.
   */
  async count(operation: string, repetitions: number, step: (i: number) => Promise<unknown>): Promise<OperationCost> {
    const keysBefore = await this.meter.keyBytes(PREFIX);
    const before = await this.meter.settled();
    for (let i = 0; i < repetitions; i++) await step(i);
    const counters = difference(before, await this.meter.settled());
    const keysAfter = await this.meter.keyBytes(PREFIX);
    // monitor() opens a connection of its own; this one never connects.
    const monitor = await new Redis(this.redis.url, { protocol: 2, lazyConnect: true }).monitor();
    let sent = 0;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args[0]?.toLowerCase() !== 'info') sent++;
    });
    for (let i = repetitions; i < repetitions + MONITORED; i++) await step(i);
    await this.meter.settled();
    // MONITOR's feed comes on its own connection: what it says of the last commands may arrive after INFO's answer.
    await new Promise((resolve) => setTimeout(resolve, 50));
    monitor.disconnect();
    return {
      operation, repetitions, ...perOperation(counters, repetitions), commandsSent: sent / MONITORED, stored: storedByKind(keysBefore, keysAfter, repetitions),
    };
  }

  /** How many runs count() makes of an operation counted `repetitions` times. */
  static runs(repetitions: number): number {
    return repetitions + MONITORED;
  }

  /** Redis's and the server's CPU time per operation over `drive`, which returns how many operations it made. */
  async underLoad(operation: string, drive: () => Promise<number>): Promise<LoadedCost> {
    this.idleCpuMsPerSecond ??= await this.idleCpu();
    const before = await this.meter.settled();
    const serverBefore = await cpuMs(this.server.pid);
    const started = performance.now();
    const operations = await drive();
    const seconds = (performance.now() - started) / 1000;
    const serverMs = await cpuMs(this.server.pid) - serverBefore;
    const redisMs = difference(before, await this.meter.settled()).cpuMs - this.idleCpuMsPerSecond * (performance.now() - started) / 1000;
    return { operation, operations, perSecond: operations / seconds, redisCpuMs: redisMs / operations, serverCpuMs: serverMs / operations };
  }

  private async idleCpu(): Promise<number> {
    const before = await this.meter.settled();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return difference(before, await this.meter.read()).cpuMs / ((performance.now() - started) / 1000);
  }

  /** The same POST over and over for `seconds`, from autocannon; the number of requests answered. */
  async repeated(seconds: number, request: { path: string; body: string; headers: Record<string, string> }): Promise<number> {
    const result = await load({ url: `${this.base}${request.path}`, method: 'POST', body: request.body, headers: request.headers, pid: this.server.pid, seconds });
    if (result.errors || result.non2xx) throw new Error(`${request.path}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
    return result.requests;
  }

  /** `step` from WORKERS concurrent loops, for `seconds` or until it returns false; the number of steps made. */
  static async loops(seconds: number, step: (worker: number) => Promise<boolean | void>): Promise<number> {
    const until = performance.now() + seconds * 1000;
    let operations = 0;
    await Promise.all(Array.from({ length: WORKERS }, async (_, worker) => {
      while (performance.now() < until && (await step(worker)) !== false) operations++;
    }));
    return operations;
  }

  async stop(): Promise<void> {
    this.meter.close();
    await this.server.stop();
    await this.redis.stop();
  }
}
