import { Cluster, type ChainableCommander } from 'ioredis';
import { StorageUnavailable } from '../errors.js';
import type { RedisClient } from './client.js';

/** REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS. */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

const WARN_EVERY_MS = 30_000;
/** Attempts at a write whose slot moved to another node (a cluster failover). */
const ATTEMPTS = 3;

const refreshedSlots = (cluster: Cluster) => new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));

/**
 * Writes that must survive the loss of the primary: accounts, consents, notes, grants, refresh tokens, clients.
 * Redis acknowledges a write once the primary has it and replicates afterwards, so a primary that dies (or is
 * demoted by a failover while it still takes writes) can take acknowledged writes with it. With `replicas` set, a
 * write is followed by WAIT on the same connection (one pipeline: on a cluster, the node that owns its keys) and is
 * acknowledged only once that many replicas have it.
 *
 * Fewer replicas within the timeout is a 503, not a success: the write is on the primary only and may vanish in the
 * next failover, and answering 200 would make the setting promise nothing. The client's retry is safe where it
 * matters: a rotated refresh token can be presented again within its grace period, a registration that did land
 * answers "username taken" and the account signs in. The price is that writes stop while fewer replicas than asked
 * are in sync: ask for fewer replicas than there are (say 1 of 2) to ride out the loss of one.
 */
export class DurableWrites {
  private unconfirmed = 0;
  private warnedAt = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly wait: ReplicaWait = { replicas: 0, timeoutMs: 0 },
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** Runs the commands (on keys of one hash slot) in one pipeline and returns their results, once replicated. */
  async run(commands: (pipeline: ChainableCommander) => ChainableCommander): Promise<unknown[]> {
    const { replicas, timeoutMs } = this.wait;
    for (let attempt = 1; ; attempt++) {
      const pipeline = commands(this.redis.pipeline());
      if (replicas) pipeline.wait(replicas, timeoutMs);
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err)?.[0];
      // ioredis follows a MOVED itself only when every other command of the pipeline is a read, which WAIT is not. A
      // redirected write did not run: run it again once the cluster's map names the slot's new owner.
      if (failed && /^MOVED /.test(failed.message) && this.redis instanceof Cluster && attempt < ATTEMPTS) {
        await refreshedSlots(this.redis);
        continue;
      }
      if (failed) throw failed;
      const results = replies.map(([, result]) => result);
      if (!replicas) return results;
      const confirmed = results.pop() as number;
      if (confirmed < replicas) {
        const shortfall = `${confirmed} of ${replicas} replicas confirmed a write within ${timeoutMs} ms`;
        this.report(shortfall);
        throw new StorageUnavailable(new Error(`WAIT: ${shortfall}`));
      }
      return results;
    }
  }

  /** Once per WARN_EVERY_MS at most: a replica that is down would otherwise log on every write. */
  private report(shortfall: string) {
    this.unconfirmed++;
    if (Date.now() - this.warnedAt < WARN_EVERY_MS) return;
    this.warn(`${shortfall} (REDIS_WAIT_REPLICAS); answered 503 to ${this.unconfirmed} write(s) since the last warning`);
    this.warnedAt = Date.now();
    this.unconfirmed = 0;
  }
}
