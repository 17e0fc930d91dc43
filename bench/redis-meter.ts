import { Redis } from 'ioredis';

/** What Redis counted, as of one reading, without the meter's own INFO requests and replies. */
export interface RedisCounters {
  /** Calls per command (INFO commandstats), the commands scripts run included. */
  calls: Record<string, number>;
  /** Bytes Redis read from its clients (total_net_input_bytes). */
  inputBytes: number;
  /** Bytes Redis wrote to its clients (total_net_output_bytes). */
  outputBytes: number;
  /** INFO memory used_memory without the clients' buffers (mem_clients_normal), which come and go with traffic. */
  usedMemory: number;
  /** Redis's own CPU time, user and system, in milliseconds. */
  cpuMs: number;
}

const SECTIONS = ['commandstats', 'stats', 'memory', 'cpu'];
const INFO = ['INFO', ...SECTIONS];

/** The size of a command as a client sends it: a RESP array of bulk strings. */
const requestBytes = (args: string[]) =>
  `*${args.length}\r\n`.length + args.reduce((sum, arg) => sum + `$${Buffer.byteLength(arg)}\r\n`.length + Buffer.byteLength(arg) + 2, 0);

/** The size of a bulk string reply in RESP2 (RESP3 frames INFO's reply as a verbatim string: 4 bytes more). */
const bulkBytes = (reply: string) => `$${Buffer.byteLength(reply)}\r\n`.length + Buffer.byteLength(reply) + 2;

const field = (info: string, name: string) => {
  const value = new RegExp(`^${name}:([\\d.]+)\\r?$`, 'm').exec(info)?.[1];
  if (value === undefined) throw new Error(`INFO has no ${name}`);
  return Number(value);
};

/**
 * Reads a Redis server's counters through a connection of its own, and takes its own traffic out of them: Redis has
 * read every INFO request by the time it answers it, and written every earlier reply. Only its own `info` calls
 * are left out of the command counts, so nothing else may call INFO on this server while it is measured.
 */
export class RedisMeter {
  private readonly redis: Redis;
  private sent = 0;
  private received = 0;

  constructor(url: string) {
    this.redis = new Redis(url, { protocol: 2 });
  }

  async read(): Promise<RedisCounters> {
    this.sent += requestBytes(INFO);
    const info = await this.redis.call('INFO', ...SECTIONS) as string;
    const counters: RedisCounters = {
      calls: Object.fromEntries([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)]
        .filter(([, command]) => command !== 'info')
        .map(([, command, calls]) => [command!, Number(calls)])),
      inputBytes: field(info, 'total_net_input_bytes') - this.sent,
      outputBytes: field(info, 'total_net_output_bytes') - this.received,
      usedMemory: field(info, 'used_memory') - field(info, 'mem_clients_normal'),
      cpuMs: (field(info, 'used_cpu_user') + field(info, 'used_cpu_sys')) * 1000,
    };
    this.received += bulkBytes(info);
    return counters;
  }

  /**
   * The counters once Redis has had nothing to read for `quietMs`: whatever a request left running after its answer is
   * counted with it.
   */
  async settled(quietMs = 30, timeoutMs = 2000): Promise<RedisCounters> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.read();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      const next = await this.read();
      if (next.inputBytes === last.inputBytes || Date.now() > deadline) return next;
      last = next;
    }
  }

  /** MEMORY USAGE of every key under `prefix`, by key (without the prefix); between measurements, never during one. */
  async keyBytes(prefix: string): Promise<Map<string, number>> {
    const bytes = new Map<string, number>();
    for await (const keys of this.redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
      const batch = keys as string[];
      if (!batch.length) continue;
      const pipeline = this.redis.pipeline();
      for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', 0);
      const replies = (await pipeline.exec()) ?? [];
      batch.forEach((key, i) => {
        const usage = replies[i]?.[1];
        if (typeof usage === 'number') bytes.set(key.slice(prefix.length), usage);
      });
    }
    return bytes;
  }

  async version(): Promise<string> {
    return /^redis_version:(\S+)/m.exec(await this.redis.info('server'))?.[1] ?? 'unknown';
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** What happened between two readings. */
export function difference(before: RedisCounters, after: RedisCounters): RedisCounters {
  const calls: Record<string, number> = {};
  for (const [command, count] of Object.entries(after.calls)) {
    const delta = count - (before.calls[command] ?? 0);
    if (delta) calls[command] = delta;
  }
  return {
    calls,
    inputBytes: after.inputBytes - before.inputBytes,
    outputBytes: after.outputBytes - before.outputBytes,
    usedMemory: after.usedMemory - before.usedMemory,
    cpuMs: after.cpuMs - before.cpuMs,
  };
}
