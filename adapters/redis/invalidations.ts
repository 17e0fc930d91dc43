import type { Redis } from 'ioredis';
import type { Invalidation, InvalidationBus } from '../stores.js';
import { guarded } from './client.js';

/**
 * Redis pub/sub on `<prefix>invalidations`. Subscribing needs a connection of its own. While that connection
 * is down, messages are lost, so every (re)connection after the first resets the listeners' caches.
 */
export class RedisInvalidationBus implements InvalidationBus {
  private readonly channel: string;
  private readonly subscriber: Redis;
  private readonly listeners: ((invalidation: Invalidation) => void)[] = [];
  private readonly resets: (() => void)[] = [];

  constructor(private readonly redis: Redis, prefix: string) {
    this.channel = `${prefix}invalidations`;
    // The offline queue lets SUBSCRIBE wait for the connection; ioredis re-subscribes after reconnecting.
    this.subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', () => { /* the main client reports outages */ });
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      if (connectedBefore) for (const reset of this.resets) reset();
      connectedBefore = true;
    });
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
