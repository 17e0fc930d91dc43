import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import { ForwardingAdapter } from './forwarding.js';

const now = () => Math.floor(Date.now() / 1000);

/**
 * Rotated refresh tokens with a reuse grace period. A host that refreshes twice in parallel (two tabs, a retry
 * after a lost response) presents the same token twice; without grace the second use counts as token theft,
 * revokes the grant and forces a new login. Within `graceSeconds` of the first use, the token still looks
 * unused and a second consume succeeds; after that, reuse is reported (and the provider revokes the grant).
 */
class RefreshGraceAdapter extends ForwardingAdapter {
  constructor(inner: Adapter, private readonly graceSeconds: number) {
    super(inner);
  }

  private withinGrace(payload: AdapterPayload | undefined | void): boolean {
    return typeof payload?.consumed === 'number' && now() - payload.consumed <= this.graceSeconds;
  }

  override async find(id: string) {
    const payload = await this.inner.find(id);
    if (payload && this.withinGrace(payload)) delete payload.consumed;
    return payload;
  }

  override async consume(id: string) {
    try {
      await this.inner.consume(id);
    } catch (err) {
      if (!this.withinGrace(await this.inner.find(id))) throw err;
    }
  }
}

export function withRefreshGrace(factory: AdapterFactory, graceSeconds: number): AdapterFactory {
  return (name) => (name === 'RefreshToken' ? new RefreshGraceAdapter(factory(name), graceSeconds) : factory(name));
}
