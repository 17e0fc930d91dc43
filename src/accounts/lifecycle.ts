import type { AdapterFactory, AdapterPayload } from 'oidc-provider';
import { epochDate, type Account, type Stores, type StoredRecord } from '../../adapters/stores.js';
import { revokeGrantById } from '../oauth/revoke-grant.js';
import { createAccount } from './accounts.js';
import type { PasswordHasher } from './password.js';
import type { Credentials } from './rules.js';

export interface AccountLifecycleParts {
  stores: Pick<Stores, 'accounts' | 'notes' | 'consents' | 'oidc'>;
  /**
   * The provider's adapters, wrapped as the server wraps them (adapters/invalidating.ts): what is revoked here leaves
   * the token cache of every instance at once.
   */
  adapters: AdapterFactory;
  passwords: PasswordHasher;
}

/** What ending a user's access ended. */
export interface Ended {
  sessions: number;
  grants: number;
}

export interface SignedInSession {
  signedInAt?: Date;
  expiresAt?: Date;
  /** The clients that were authorized in this browser session. */
  clients: string[];
}

export interface AccessGrant {
  clientId: string;
  scopes: string[];
  grantedAt?: Date;
  expiresAt?: Date;
}

/** Every scope a stored grant holds: its OpenID scopes and each resource's. */
export function grantScopes(payload: AdapterPayload): string[] {
  const openid = (payload.openid as { scope?: string } | undefined)?.scope ?? '';
  const resources = Object.values((payload.resources ?? {}) as Record<string, string>);
  return [...new Set([openid, ...resources].join(' ').split(' ').filter(Boolean))];
}

export const describeGrant = ({ payload }: StoredRecord): AccessGrant => ({
  clientId: payload.clientId ?? '',
  scopes: grantScopes(payload),
  grantedAt: epochDate(payload.iat),
  expiresAt: epochDate(payload.exp),
});

const describeSession = ({ payload }: StoredRecord): SignedInSession => ({
  signedInAt: epochDate(payload.loginTs),
  expiresAt: epochDate(payload.exp),
  clients: Object.keys(payload.authorizations ?? {}),
});

const byModel = (records: StoredRecord[], model: 'Session' | 'Grant') => records.filter((record) => record.model === model);

/**
 * An account from creation to deletion, as the operator's commands (and a user's own account pages) drive it. Every
 * step that ends access ends it everywhere: browser sessions, grants with every token and code issued under them
 * (dropped from every instance's token cache), and remembered consents.
 */
export class AccountLifecycle {
  constructor(private readonly parts: AccountLifecycleParts) {}

  private get stores() {
    return this.parts.stores;
  }

  /** Every account, by username. */
  async list(): Promise<Account[]> {
    return (await this.stores.accounts.list()).sort((a, b) => a.username.localeCompare(b.username));
  }

  /** Any account, a disabled one too; the username in any letter case. */
  find(username: string): Promise<Account | undefined> {
    return this.stores.accounts.findByUsername(username);
  }

  /** An account as an operator creates it: the credential rules of registration, without its limits. */
  create(credentials: Credentials): Promise<Account | undefined> {
    return createAccount(this.stores.accounts, this.parts.passwords, credentials);
  }

  /** The user's live browser sessions and what each app may do. */
  async access(accountId: string): Promise<{ sessions: SignedInSession[]; grants: AccessGrant[] }> {
    const records = await this.stores.oidc.ofAccount(accountId);
    return { sessions: byModel(records, 'Session').map(describeSession), grants: byModel(records, 'Grant').map(describeGrant) };
  }

  /**
   * Ends every browser session of the user as signing out of each one would (the provider's end_session): a grant the
   * session holds whose tokens end with the session (client1's sign-in tokens: expiresWithSession in
   * config/provider.ts) is revoked with it. The access of apps (MCP hosts, the command line) outlives a sign-out.
   * `keepSessionUid`: the session (by its uid) that stays, the browser a user acts from.
   */
  async signOutEverywhere(accountId: string, keepSessionUid?: string): Promise<Ended> {
    const sessions = byModel(await this.stores.oidc.ofAccount(accountId), 'Session')
      .filter(({ payload }) => keepSessionUid === undefined || payload.uid !== keepSessionUid);
    const grantIds = new Set(sessions.flatMap(({ payload }) => Object.values(payload.authorizations ?? {})
      .filter((authorization) => authorization.grantId && !authorization.persistsLogout)
      .map((authorization) => authorization.grantId!)));
    // The sessions first: from then on no browser can make new grants for the user.
    await this.destroySessions(sessions);
    const grants = await this.revokeGrants([...grantIds]);
    return { sessions: sessions.length, grants };
  }

  /**
   * Ends one app's access for the user: every grant of it with their tokens, and its remembered consent, so that the
   * app must ask again (a first-party one is granted again when the user next signs in with it). False when the user
   * had given it neither.
   */
  async revokeApp(accountId: string, clientId: string): Promise<boolean> {
    const grants = byModel(await this.stores.oidc.ofAccount(accountId), 'Grant').filter(({ payload }) => payload.clientId === clientId);
    const revoked = await this.revokeGrants(grants.map((grant) => grant.id));
    // Forgotten last: if revoking fails half-way, the app stays listed and the user can try again.
    const consent = await this.stores.consents.forget(accountId, clientId);
    return revoked > 0 || consent !== undefined;
  }

  /** Ends every session and every grant of the user, and forgets their consents: every app must ask again. */
  async endAllAccess(accountId: string): Promise<Ended> {
    const records = await this.stores.oidc.ofAccount(accountId);
    const sessions = byModel(records, 'Session');
    await this.destroySessions(sessions);
    const grants = await this.revokeGrants(byModel(records, 'Grant').map((grant) => grant.id));
    await this.stores.consents.forgetAll(accountId);
    return { sessions: sessions.length, grants };
  }

  /** Refuses the user's sign-ins from now on (the right password is answered "disabled"), and ends all their access. */
  async disable(account: Account): Promise<Ended> {
    if (!account.disabledAt) await this.stores.accounts.update(account.id, { disabledAt: Date.now() });
    return this.endAllAccess(account.id);
  }

  async enable(account: Account): Promise<void> {
    await this.stores.accounts.update(account.id, { disabledAt: null });
  }

  /**
   * A new password, and all access gained with the old one ended: an operator resets a password when it was lost or
   * stolen, and whoever stole it must not keep a session or an app's tokens.
   */
  async resetPassword(account: Account, password: string): Promise<Ended> {
    await this.stores.accounts.update(account.id, { passwordHash: await this.parts.passwords.hash(password) });
    return this.endAllAccess(account.id);
  }

  /**
   * The user's own change of password, made from a browser that stays signed in: every other session of the user ends
   * as signOutEverywhere ends it; apps keep their access (the user revokes them one by one). The other sessions end
   * before the change, so that a change cut short leaves the old password working and can simply be made again, and
   * after it, so that a sign-in with the old password that raced the change does not outlive it.
   */
  async changePassword(account: Account, password: string, keepSessionUid: string): Promise<Ended> {
    const before = await this.signOutEverywhere(account.id, keepSessionUid);
    await this.stores.accounts.update(account.id, { passwordHash: await this.parts.passwords.hash(password) });
    const after = await this.signOutEverywhere(account.id, keepSessionUid);
    return { sessions: before.sessions + after.sessions, grants: before.grants + after.grants };
  }

  /**
   * Deletes the user and everything of theirs. The account is disabled first, so no sign-in races the deletion, and
   * removed last, so that a deletion cut short can be run again: it finds the account and goes on.
   */
  async delete(account: Account): Promise<Ended & { notes: number }> {
    const ended = await this.disable(account);
    const notes = (await this.stores.notes.list(account.id)).length;
    await this.stores.notes.deleteAll(account.id);
    await this.stores.accounts.delete(account.id);
    return { ...ended, notes };
  }

  private async destroySessions(sessions: StoredRecord[]): Promise<void> {
    const adapter = this.parts.adapters('Session');
    await Promise.all(sessions.map((session) => adapter.destroy(session.id)));
  }

  /** Revokes the grants that still exist; returns how many did. */
  private async revokeGrants(grantIds: string[]): Promise<number> {
    const grants = this.parts.adapters('Grant');
    const revoked = await Promise.all(grantIds.map(async (grantId) => {
      if (!(await grants.find(grantId))) return false;
      await revokeGrantById(this.parts.adapters, grantId);
      return true;
    }));
    return revoked.filter(Boolean).length;
  }
}
