import { epochDate, type Stores, type StoredRecord } from '../../adapters/stores.js';
import { describeScope } from '../../config/scopes.js';
import { grantScopes, type AccountLifecycle } from '../accounts/lifecycle.js';

export interface ConnectedApp {
  clientId: string;
  /** The client's own name for itself when the user allowed it, else its id; a first-party client's configured name. */
  name: string;
  /** The host of its client_id, for a client described by a metadata document. */
  domain?: string;
  /** One of this server's own clients (config/clients.ts): never asks for consent, is granted again at its next sign-in. */
  firstParty: boolean;
  /** What its grants allow today, which may be more than the first consent (step-up). */
  scopes: { scope: string; description: string }[];
  /** When the user last allowed something for it; for a first-party client, when its newest grant began (a sign-in). */
  grantedAt: Date;
  /** When it last got a token from this server (see lastTokenAt); undefined when it holds none. */
  lastUsedAt?: Date;
}

/**
 * What says when an app last got tokens: every token response issues an access token, and a refresh token whenever a
 * new one is due. Each kind lives equally long (config/provider.ts TTL), so the one that expires last is the newest.
 */
const TOKEN_MODELS = ['AccessToken', 'RefreshToken'] as const;

const latest = (dates: (Date | undefined)[]) =>
  dates.reduce<Date | undefined>((last, date) => (date && (!last || date > last) ? date : last), undefined);

export interface ConnectedAppsParts {
  stores: Pick<Stores, 'consents' | 'oidc'>;
  lifecycle: AccountLifecycle;
  /** The first-party clients, by id, with the names the page shows for them. */
  firstParty: ReadonlyMap<string, string>;
}

/**
 * The apps that can use a user's account, whatever let them (a consent, or a sign-in with one of this server's own
 * clients), with what each may do and when it last got a token; and taking that access back.
 */
export class ConnectedApps {
  constructor(private readonly parts: ConnectedAppsParts) {}

  /**
   * Most recent first: one entry per client holding a live grant of the user (an ended grant connects nothing). Each
   * third-party app is named as it was when the user allowed it: loading the clients could mean a fetch from each
   * one's host.
   */
  async list(accountId: string): Promise<ConnectedApp[]> {
    const { consents, oidc } = this.parts.stores;
    const [records, allowed] = await Promise.all([oidc.ofAccount(accountId), consents.list(accountId)]);
    const grantsByClient = new Map<string, StoredRecord[]>();
    for (const record of records) {
      const clientId = record.payload.clientId;
      if (record.model !== 'Grant' || !clientId) continue;
      grantsByClient.set(clientId, [...grantsByClient.get(clientId) ?? [], record]);
    }
    const consentOf = new Map(allowed.map((consent) => [consent.clientId, consent]));

    const apps = await Promise.all([...grantsByClient].map(async ([clientId, grants]): Promise<ConnectedApp> => {
      const consent = consentOf.get(clientId);
      const firstPartyName = this.parts.firstParty.get(clientId);
      const scopes = [...new Set(grants.flatMap(({ payload }) => grantScopes(payload)))];
      return {
        clientId,
        name: firstPartyName ?? consent?.client.name ?? clientId,
        ...(consent?.client.domain ? { domain: consent.client.domain } : {}),
        firstParty: firstPartyName !== undefined,
        scopes: scopes.map((scope) => ({ scope, description: describeScope(scope) })),
        grantedAt: consent ? new Date(consent.grantedAt) : latest(grants.map(({ payload }) => epochDate(payload.iat))) ?? new Date(0),
        lastUsedAt: await this.lastTokenAt(grants),
      };
    }));
    return apps.sort((a, b) => b.grantedAt.getTime() - a.grantedAt.getTime());
  }

  /**
   * When the newest token still stored under the grants was issued: the last time the app signed in or refreshed.
   * Calls to /mcp are not recorded one by one (that would be a write per call); an app that refreshes without getting
   * a new refresh token (a confidential client before its refresh token is 70% through its life) shows that refresh
   * only while its access token lives, an hour, and then when its refresh token was issued.
   */
  private async lastTokenAt(grants: StoredRecord[]): Promise<Date | undefined> {
    const newest = await Promise.all(grants.map((grant) => this.parts.stores.oidc.newestOfGrant(grant.id, TOKEN_MODELS)));
    return latest(newest.flat().map(({ payload }) => epochDate(payload.iat)));
  }

  /**
   * Ends the app's access at once (its grants and every token of them) and forgets the consent, so its next
   * authorization asks again. False when this user has given that client nothing: another user's grants and consents
   * are never reached, since both are found by the user.
   */
  revoke(accountId: string, clientId: string): Promise<boolean> {
    return this.parts.lifecycle.revokeApp(accountId, clientId);
  }
}
