import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import { ForwardingAdapter } from './forwarding.js';

const DAY_SECONDS = 24 * 60 * 60;
const now = () => Math.floor(Date.now() / 1000);

/**
 * Kept in a stored client's record beside its metadata, and taken out before the provider sees the record: the
 * provider caches clients by a hash of what find returns, and would treat every extension as a new client.
 */
const UPKEEP = '_idleExpiry';

export interface Upkeep {
  /** Epoch seconds of the last write that gave the record (and its token) a full lifetime. */
  extendedAt: number;
  /** The client's registration access token, which must expire with it. */
  registrationAccessToken?: string;
}

/**
 * Stored clients (open Dynamic Client Registration: anyone can create them) expire after `ttlSeconds` without
 * use, so clients nobody uses cannot fill storage. Every load of the client by the provider (authorization,
 * token, refresh, registration read) is a use; storage only keeps what it is told, so a use rewrites the
 * record with a fresh lifetime, at most once per `extendEvery` so that the token endpoint does not write on
 * every request. A client therefore lives between `ttlSeconds - extendEvery` and `ttlSeconds` past its last use.
 *
 * Its registration access token gets the same lifetime and is extended with it, just before it, so it never
 * outlives the client. Static clients are never stored, and Client ID Metadata Document clients are fetched,
 * not stored: neither passes through here.
 */
class ClientIdleExpiry {
  readonly extendEvery: number;

  constructor(readonly clients: Adapter, readonly tokens: Adapter, readonly ttlSeconds: number) {
    // Half the lifetime at most, so a short lifetime still leaves a used client alive for a while.
    this.extendEvery = Math.min(DAY_SECONDS, Math.floor(ttlSeconds / 2));
  }

  async store(clientId: string, metadata: AdapterPayload, registrationAccessToken: string | undefined): Promise<void> {
    const upkeep: Upkeep = { extendedAt: now(), ...(registrationAccessToken ? { registrationAccessToken } : {}) };
    await this.clients.upsert(clientId, { ...metadata, [UPKEEP]: upkeep }, this.ttlSeconds);
  }

  async extend(clientId: string, metadata: AdapterPayload, upkeep: Upkeep | undefined): Promise<void> {
    const tokenId = upkeep?.registrationAccessToken;
    const token = tokenId ? await this.tokens.find(tokenId) : undefined;
    if (tokenId && token) await this.tokens.upsert(tokenId, token, this.ttlSeconds);
    await this.store(clientId, metadata, token ? tokenId : undefined);
  }

  isDue(upkeep: Upkeep | undefined): boolean {
    return !upkeep || now() - upkeep.extendedAt >= this.extendEvery;
  }
}

/** Splits a stored client record into the metadata the provider sees and this wrapper's upkeep. */
export function splitClientRecord(record: AdapterPayload): { metadata: AdapterPayload; upkeep: Upkeep | undefined } {
  const { [UPKEEP]: upkeep, ...metadata } = record;
  return { metadata, upkeep: upkeep as Upkeep | undefined };
}

class ExpiringClientAdapter extends ForwardingAdapter {
  constructor(private readonly expiry: ClientIdleExpiry) {
    super(expiry.clients);
  }

  // The provider stores a client with no lifetime; a client rewritten by it (registration management) keeps its token.
  override async upsert(id: string, payload: AdapterPayload) {
    const previous = await this.inner.find(id);
    await this.expiry.store(id, payload, previous ? splitClientRecord(previous).upkeep?.registrationAccessToken : undefined);
  }

  override async find(id: string) {
    const record = await this.inner.find(id);
    if (!record) return undefined;
    const { metadata, upkeep } = splitClientRecord(record);
    if (this.expiry.isDue(upkeep)) await this.expiry.extend(id, metadata, upkeep);
    return metadata;
  }
}

class ExpiringRegistrationTokenAdapter extends ForwardingAdapter {
  constructor(private readonly expiry: ClientIdleExpiry) {
    super(expiry.tokens);
  }

  // Saved right after its client: the client's record is rewritten to name it, and so to extend it from then on.
  override async upsert(id: string, payload: AdapterPayload) {
    await this.inner.upsert(id, payload, this.expiry.ttlSeconds);
    const client = payload.clientId ? await this.expiry.clients.find(payload.clientId) : undefined;
    if (client) await this.expiry.store(payload.clientId!, splitClientRecord(client).metadata, id);
  }
}

export function withClientIdleExpiry(factory: AdapterFactory, ttlSeconds: number): AdapterFactory {
  let expiry: ClientIdleExpiry | undefined;
  const shared = () => (expiry ??= new ClientIdleExpiry(factory('Client'), factory('RegistrationAccessToken'), ttlSeconds));
  return (name) => {
    if (name === 'Client') return new ExpiringClientAdapter(shared());
    if (name === 'RegistrationAccessToken') return new ExpiringRegistrationTokenAdapter(shared());
    return factory(name);
  };
}
