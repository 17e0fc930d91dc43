import { EventEmitter } from 'node:events';
import type { Invalidation, InvalidationBus } from '../stores.js';

/** One process: invalidations are delivered synchronously, and nothing can be missed. */
export class MemoryInvalidationBus implements InvalidationBus {
  private readonly events = new EventEmitter().setMaxListeners(0);

  async publish(invalidation: Invalidation): Promise<void> {
    this.events.emit('invalidation', invalidation);
  }

  subscribe(listener: (invalidation: Invalidation) => void): void {
    this.events.on('invalidation', listener);
  }
}
