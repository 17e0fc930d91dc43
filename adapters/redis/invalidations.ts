import { Cluster } from 'ioredis';
import type { Invalidation, InvalidationBus } from '../stores.js';
import { guarded, type RedisClient } from './client.js';

/**
 * Redis pub/sub on `<prefix>invalidations`. Subscribing needs a connection of its own. While that connection
 * is down, messages are lost, so every (re)connection after the first resets the listeners' caches.
 *
 * On a cluster, classic PUBLISH reaches the subscribers of every node (the cluster bus forwards it), so the
 * subscriber listens on one node, which ioredis replaces when it goes away. That replacement is not announced: the
 * caches are reset whenever the subscriber's view of the nodes changes (a node lost, found or failing), which
 * happens around every such replacement. The token cache's maximum age bounds what a missed message can cost.
 */
export class RedisInvalidationBus implements InvalidationBus {
  private readonly channel: string;
  private readonly subscriber: RedisClient;
  private readonly listeners: ((invalidation: Invalidation) => void)[] = [];
  private readonly resets: (() => void)[] = [];

  constructor(private readonly redis: RedisClient, prefix: string) {
    this.channel = `${prefix}invalidations`;
    // The offline queue lets SUBSCRIBE wait for the connection; ioredis re-subscribes after reconnecting.
    this.subscriber = redis instanceof Cluster
      ? redis.duplicate([], { enableOfflineQueue: true, redisOptions: { maxRetriesPerRequest: null } })
      : redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', () => { /* the main client reports outages */ });
    let connectedBefore = false;
    const reset = () => {
      for (const listener of this.resets) listener();
    };
    this.subscriber.on('ready', () => {
      if (connectedBefore) reset();
      connectedBefore = true;
    });
    if (this.subscriber instanceof Cluster) {
      this.subscriber.on('node error', reset);
      this.subscriber.on('-node', reset);
      this.subscriber.on('+node', () => { if (connectedBefore) reset(); });
    }
    this.subscriber.on('message', (_channel: string, message: string) => {
      const invalidation = JSON.parse(message) as Invalidation;
      for (const listener of this.listeners) listener(invalidation);
    });
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
  }

  publish(invalidation: Invalidation): Promise<void> {
    return guarded(async () => {
      await this.redis.publish(this.channel, JSON.stringify(invalidation));
    });
  }

  subscribe(listener: (invalidation: Invalidation) => void, onReset: () => void): void {
    this.listeners.push(listener);
    this.resets.push(onReset);
  }

  close(): void {
    this.subscriber.disconnect();
  }
}
