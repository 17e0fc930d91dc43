import type { Adapter, AdapterPayload } from 'oidc-provider';

/** An adapter that hands every call to another; wrappers override only what they change. */
export class ForwardingAdapter implements Adapter {
  constructor(protected readonly inner: Adapter) {}

  upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    return this.inner.upsert(id, payload, expiresIn);
  }

  find(id: string) {
    return this.inner.find(id);
  }

  findByUid(uid: string) {
    return this.inner.findByUid(uid);
  }

  findByUserCode(userCode: string) {
    return this.inner.findByUserCode(userCode);
  }

  consume(id: string) {
    return this.inner.consume(id);
  }

  destroy(id: string) {
    return this.inner.destroy(id);
  }

  revokeByGrantId(grantId: string) {
    return this.inner.revokeByGrantId(grantId);
  }
}
