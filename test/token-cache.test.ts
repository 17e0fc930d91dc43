import type { AuthInfo } from '@modelcontextprotocol/server';
import { expect } from 'chai';
import { MemoryInvalidationBus } from '../adapters/memory/invalidations.js';
import type { Invalidation, InvalidationBus } from '../adapters/stores.js';
import { TokenCache } from '../src/mcp/token-cache.js';

const auth = (token: string): AuthInfo => ({ token, clientId: 'c', scopes: ['notes:read'] });
const inAnHour = () => Date.now() + 3_600_000;

/** A bus whose reset the test can trigger, as a reconnect of the Redis subscriber would. */
class ResettableBus implements InvalidationBus {
  private reset: (() => void) | undefined;
  async publish(): Promise<void> {}
  subscribe(_listener: (i: Invalidation) => void, onReset: () => void): void {
    this.reset = onReset;
  }
  fireReset() {
    this.reset?.();
  }
}

describe('the bearer token cache', () => {
  it('serves a cached token, and forgets it when the bus says the token was destroyed', async () => {
    const bus = new MemoryInvalidationBus();
    const cache = new TokenCache(bus);
    cache.set('t1', 'g1', auth('t1'), inAnHour(), cache.epoch);
    expect(cache.get('t1')?.token).to.equal('t1');
    await bus.publish({ token: 't1' });
    expect(cache.get('t1')).to.equal(undefined);
  });

  it('forgets every token of a revoked grant, and only those', async () => {
    const bus = new MemoryInvalidationBus();
    const cache = new TokenCache(bus);
    for (const [token, grant] of [['a', 'g1'], ['b', 'g1'], ['c', 'g2']] as const) cache.set(token, grant, auth(token), inAnHour(), cache.epoch);
    await bus.publish({ grant: 'g1' });
    expect([cache.get('a'), cache.get('b')]).to.deep.equal([undefined, undefined]);
    expect(cache.get('c')?.token).to.equal('c');
  });

  it('does not cache a lookup that raced with an invalidation (a token revoked while it was being checked)', async () => {
    const bus = new MemoryInvalidationBus();
    const cache = new TokenCache(bus);
    const epoch = cache.epoch;
    await bus.publish({ token: 'other' });
    cache.set('t1', 'g1', auth('t1'), inAnHour(), epoch);
    expect(cache.get('t1')).to.equal(undefined);
  });

  it('keeps an entry no longer than the token lives, nor than its maximum age', async () => {
    const cache = new TokenCache(new MemoryInvalidationBus(), 50);
    cache.set('short', 'g', auth('short'), Date.now() + 20, cache.epoch);
    cache.set('long', 'g', auth('long'), inAnHour(), cache.epoch);
    await new Promise((r) => setTimeout(r, 30));
    expect(cache.get('short')).to.equal(undefined);
    expect(cache.get('long')?.token).to.equal('long');
    await new Promise((r) => setTimeout(r, 30));
    expect(cache.get('long')).to.equal(undefined);
  });

  it('forgets everything when the bus may have missed messages', () => {
    const bus = new ResettableBus();
    const cache = new TokenCache(bus);
    cache.set('t1', 'g1', auth('t1'), inAnHour(), cache.epoch);
    bus.fireReset();
    expect(cache.get('t1')).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('stays within its size bound, dropping the oldest entry', () => {
    const cache = new TokenCache(new MemoryInvalidationBus(), 30_000, 2);
    for (const token of ['a', 'b', 'c']) cache.set(token, 'g', auth(token), inAnHour(), cache.epoch);
    expect(cache.size).to.equal(2);
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.get('c')?.token).to.equal('c');
  });
});
