import type { AdapterFactory, AdapterPayload, ClientMetadata } from 'oidc-provider';
import { splitClientRecord } from '../../adapters/client-idle-expiry.js';
import { epochDate, type Stores, type StoredRecord } from '../../adapters/stores.js';
import type { StaticClients } from '../../config/clients.js';
import { describeGrant, type AccessGrant } from '../accounts/lifecycle.js';
import { revokeGrantById } from './revoke-grant.js';

/**
 * static: configured in the environment (client1, the command line, resource servers); registered: stored by Dynamic
 * Client Registration; metadata-document: a Client ID Metadata Document URL, fetched rather than stored, known here
 * only by its grants.
 */
export type ClientKind = 'static' | 'registered' | 'metadata-document';

export interface ClientSummary {
  clientId: string;
  /** Its client_name, else its id: what the client says of itself, unverified. */
  name: string;
  kind: ClientKind;
  /** Trusted: its users are never asked for consent. */
  firstParty: boolean;
  /** Registered clients: client_id_issued_at. */
  createdAt?: Date;
  /** How many users have a live grant for it. */
  grants: number;
}

export interface ClientDetails extends ClientSummary {
  redirectUris: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod?: string;
  /** Registered clients: when storage lets go of it unless it is used before (CLIENT_IDLE_TTL_DAYS). */
  expiresIfUnusedAt?: Date;
  /** Every live grant of the client, with the user it was given by. */
  users: (AccessGrant & { accountId: string; username?: string })[];
}

export interface ClientDirectoryParts {
  stores: Pick<Stores, 'accounts' | 'consents' | 'oidc'>;
  /** As in AccountLifecycleParts: revocations must reach every instance's token cache. */
  adapters: AdapterFactory;
  staticClients: StaticClients;
  idleTtlSeconds: number;
}

/** The clients an operator can see and act on: those configured, those registered, and any other with grants. */
export class ClientDirectory {
  constructor(private readonly parts: ClientDirectoryParts) {}

  private get oidc() {
    return this.parts.stores.oidc;
  }

  /** The configured clients, then the registered ones by name. */
  async list(): Promise<ClientSummary[]> {
    const configured = this.parts.staticClients.metadata.map((metadata) => this.summary('static', metadata));
    const records = await Promise.all((await this.oidc.ids('Client')).map((id) => this.registered(id)));
    const registered = records.filter((record) => record !== undefined)
      .map((record) => this.summary('registered', splitClientRecord(record).metadata))
      .sort((a, b) => a.name.localeCompare(b.name) || a.clientId.localeCompare(b.clientId));
    return Promise.all([...configured, ...registered].map(async (client) => ({
      ...client, grants: (await this.oidc.grantsOfClient(client.clientId)).length,
    })));
  }

  /** Undefined when no client has this id: none configured, none registered, and no grant names it. */
  async find(clientId: string): Promise<ClientDetails | undefined> {
    const configured = this.configured(clientId);
    const registered = await this.registered(clientId);
    const grants = await this.oidc.grantsOfClient(clientId);
    if (!configured && !registered && !grants.length) return undefined;
    const { metadata, upkeep } = registered ? splitClientRecord(registered) : { metadata: configured ?? { client_id: clientId }, upkeep: undefined };
    const kind: ClientKind = configured ? 'static' : registered ? 'registered' : 'metadata-document';
    return {
      ...this.summary(kind, metadata),
      grants: grants.length,
      redirectUris: [...(metadata.redirect_uris ?? [])],
      grantTypes: [...(metadata.grant_types ?? [])],
      tokenEndpointAuthMethod: metadata.token_endpoint_auth_method,
      expiresIfUnusedAt: upkeep ? new Date((upkeep.extendedAt + this.parts.idleTtlSeconds) * 1000) : undefined,
      users: await Promise.all(grants.map((grant) => this.grantUser(grant))),
    };
  }

  /**
   * Ends every grant of the client, for every user, with every token and code issued under them, and forgets the
   * users' consents, so that the app must ask each of them again. Returns how many grants there were.
   */
  async revoke(clientId: string): Promise<number> {
    const grants = await this.oidc.grantsOfClient(clientId);
    await Promise.all(grants.map(async (grant) => {
      await revokeGrantById(this.parts.adapters, grant.id);
      await this.parts.stores.consents.forget(grant.payload.accountId!, clientId);
    }));
    return grants.length;
  }

  /**
   * Deletes a registered client and then ends its grants (revoke), so that no new token can be issued to it meanwhile.
   * Undefined when no registered client has this id; otherwise how many grants it had.
   */
  async deleteRegistered(clientId: string): Promise<number | undefined> {
    const record = await this.registered(clientId);
    if (!record) return undefined;
    const token = splitClientRecord(record).upkeep?.registrationAccessToken;
    if (token) await this.oidc.factory('RegistrationAccessToken').destroy(token);
    await this.oidc.factory('Client').destroy(clientId);
    return this.revoke(clientId);
  }

  private configured(clientId: string): ClientMetadata | undefined {
    return this.parts.staticClients.metadata.find((client) => client.client_id === clientId);
  }

  /** A stored client's record, read as it is: an operator's look is no use of the client (adapters/client-idle-expiry.ts). */
  private async registered(clientId: string): Promise<AdapterPayload | undefined> {
    if (this.configured(clientId)) return undefined;
    return (await this.oidc.factory('Client').find(clientId)) ?? undefined;
  }

  private summary(kind: ClientKind, metadata: ClientMetadata | AdapterPayload): ClientSummary {
    const clientId = String(metadata.client_id);
    return {
      clientId,
      name: typeof metadata.client_name === 'string' && metadata.client_name ? metadata.client_name : clientId,
      kind,
      firstParty: kind === 'static' && this.parts.staticClients.firstParty.has(clientId),
      createdAt: kind === 'registered' ? epochDate(metadata.client_id_issued_at) : undefined,
      grants: 0,
    };
  }

  private async grantUser(grant: StoredRecord): Promise<ClientDetails['users'][number]> {
    const accountId = grant.payload.accountId!;
    const account = await this.parts.stores.accounts.findById(accountId);
    return { ...describeGrant(grant), accountId, ...(account ? { username: account.username } : {}) };
  }
}
