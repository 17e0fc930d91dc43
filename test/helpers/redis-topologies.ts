import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { hasRedisServerBinary, OwnRedis } from './redis.js';

/**
 * A Redis Cluster and a Sentinel group of our own, from redis-server processes on free ports in temporary folders:
 * started once per test file (a before hook), stopped after it. Timeouts are short so failovers take a second or
 * two. Without redis-server these suites skip on a developer's machine and fail under CI=true, where they must run.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks until `check` holds, or throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One command on one server, on a connection of its own. */
export async function ask(port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(args[0]!, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

const info = async (port: number, section: string) => String(await ask(port, 'INFO', section));
const field = (text: string, name: string) => new RegExp(`^${name}:(.*)\\r?$`, 'm').exec(text)?.[1]?.trim();

/** Three masters with one replica each. */
export class OwnCluster {
  private constructor(readonly nodes: OwnRedis[]) {}

  /** host:port of every node, as REDIS_CLUSTER_NODES takes them. */
  get nodeList(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  static async launch(): Promise<OwnCluster> {
    const nodes = await Promise.all(Array.from({ length: 6 }, () => OwnRedis.launch({
      args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000'],
    })));
    const cluster = new OwnCluster(nodes);
    const created = spawnSync('redis-cli', [
      '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes',
    ], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await cluster.settled();
    return cluster;
  }

  /** Every running node says cluster_state:ok and knows three masters, each with a replica that is in sync. */
  async settled(timeoutMs = 15_000): Promise<void> {
    await waitFor('cluster_state:ok', async () => {
      for (const node of this.nodes) {
        if (!node.running) continue;
        const state = field(String(await ask(node.port, 'CLUSTER', 'INFO')), 'cluster_state');
        if (state !== 'ok') return false;
      }
      const masters = await this.masters();
      if (masters.length !== 3) return false;
      for (const master of masters) {
        const replication = await info(master.port, 'replication');
        if (field(replication, 'connected_slaves') !== '1' || !/state=online/.test(replication)) return false;
      }
      return true;
    }, timeoutMs);
  }

  private async roleOf(node: OwnRedis): Promise<string | undefined> {
    return node.running ? field(await info(node.port, 'replication'), 'role') : undefined;
  }

  async masters(): Promise<OwnRedis[]> {
    const roles = await Promise.all(this.nodes.map((n) => this.roleOf(n)));
    return this.nodes.filter((_, i) => roles[i] === 'master');
  }

  /** The master that holds `key`. */
  async masterOf(key: string): Promise<OwnRedis> {
    const slot = Number(await ask(this.nodes.find((n) => n.running)!.port, 'CLUSTER', 'KEYSLOT', key));
    const shards = await ask(this.nodes.find((n) => n.running)!.port, 'CLUSTER', 'SLOTS') as [number, number, [string, number]][];
    const [, , [, port]] = shards.find(([from, to]) => slot >= from && slot <= to)!;
    return this.nodes.find((n) => n.port === Number(port))!;
  }

  /** The replica of `master`. */
  async replicaOf(master: OwnRedis): Promise<OwnRedis> {
    const port = field(await info(master.port, 'replication'), 'slave0')?.match(/port=(\d+)/)?.[1];
    const replica = this.nodes.find((n) => n.port === Number(port));
    if (!replica) throw new Error(`no replica of ${master.port}`);
    return replica;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

export const SENTINEL_NAME = 'mymaster';

/** A primary with a replica, watched by three sentinels (quorum 2), as docker-compose.sentinel.yml runs them. */
export class OwnSentinelGroup {
  private constructor(readonly servers: OwnRedis[], readonly sentinels: OwnRedis[]) {}

  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  static async launch(): Promise<OwnSentinelGroup> {
    const primary = await OwnRedis.launch();
    const replica = await OwnRedis.launch({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const sentinels = await Promise.all([1, 2, 3].map(() => OwnRedis.launch({
      args: ['--sentinel'],
      config: [
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        '',
      ].join('\n'),
    })));
    const group = new OwnSentinelGroup([primary, replica], sentinels);
    await group.settled();
    return group;
  }

  /** The primary the sentinels name. */
  async primary(): Promise<OwnRedis> {
    const [, port] = await ask(this.sentinels.find((s) => s.running)!.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME) as string[];
    return this.servers.find((s) => s.port === Number(port))!;
  }

  /** Every sentinel agrees on a primary whose replica is in sync, and knows the other sentinels. */
  async settled(timeoutMs = 20_000): Promise<void> {
    await waitFor('the sentinel group to settle', async () => {
      const primary = await this.primary();
      const replication = await info(primary.port, 'replication');
      if (field(replication, 'role') !== 'master' || field(replication, 'connected_slaves') !== '1') return false;
      if (!/state=online/.test(replication)) return false;
      for (const sentinel of this.sentinels) {
        const master = await ask(sentinel.port, 'SENTINEL', 'MASTER', SENTINEL_NAME) as string[];
        const get = (name: string) => master[master.indexOf(name) + 1];
        if (Number(get('port')) !== primary.port || get('num-other-sentinels') !== '2' || get('num-slaves') !== '1') return false;
        if (!/^master$/.test(get('flags') ?? '')) return false;
      }
      return true;
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.servers].map((s) => s.stop()));
  }
}

/**
 * A before hook that starts a topology for the enclosing describe and an after hook that stops it; skipped
 * (or failed under CI) without redis-server.
 */
export function useTopology<T extends { stop(): Promise<void> }>(launch: () => Promise<T>): { readonly it: T } {
  let topology: T | undefined;
  before(async function () {
    if (!hasRedisServerBinary()) {
      const reason = 'these tests run a Redis Cluster and a Sentinel group of their own: install redis-server';
      if (process.env.CI) throw new Error(reason);
      console.warn(`    skipped: ${reason}`);
      this.skip();
    }
    this.timeout(60_000);
    topology = await launch();
  });
  after(async () => {
    await topology?.stop();
  });
  return {
    get it() {
      if (!topology) throw new Error('useTopology: not started (read it from a hook or a test)');
      return topology;
    },
  };
}
