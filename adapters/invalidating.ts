import type { Adapter, AdapterFactory } from 'oidc-provider';
import { ForwardingAdapter } from './forwarding.js';
import type { InvalidationBus } from './stores.js';

/**
 * Publishes what makes a cached authorization stale, after storage has changed: an access token destroyed
 * (revocation), the tokens of a grant revoked (code replay, refresh token reuse), a grant destroyed (an app
 * disconnected). Resource servers that cache token lookups drop them on these messages.
 */
class InvalidatingAdapter extends ForwardingAdapter {
  constructor(inner: Adapter, private readonly name: string, private readonly bus: InvalidationBus) {
    super(inner);
  }

  override async destroy(id: string) {
    await this.inner.destroy(id);
    if (this.name === 'AccessToken') await this.bus.publish({ token: id });
    if (this.name === 'Grant') await this.bus.publish({ grant: id });
  }

  override async revokeByGrantId(grantId: string) {
    await this.inner.revokeByGrantId(grantId);
    if (this.name === 'AccessToken') await this.bus.publish({ grant: grantId });
  }
}

const WATCHED = new Set(['AccessToken', 'Grant']);

export function withInvalidation(factory: AdapterFactory, bus: InvalidationBus): AdapterFactory {
  return (name) => (WATCHED.has(name) ? new InvalidatingAdapter(factory(name), name, bus) : factory(name));
}
