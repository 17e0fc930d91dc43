import { randomUUID } from 'node:crypto';
import type { AdapterFactory, AdapterPayload } from 'oidc-provider';

/* The app's state behind interfaces with one backing per storage: memory (one process) or Redis (shared). */

export interface Account {
  id: string;
  /** As the user typed it; uniqueness is case-insensitive. */
  username: string;
  passwordHash: string;
  createdAt: number;
  /** Epoch milliseconds: since when an operator has disabled the account. Absent while it may sign in. */
  disabledAt?: number;
  /** Epoch milliseconds of the last sign-in with the password, once there has been one. */
  lastLoginAt?: number;
}

/** What may change in an account; a field left out stays as it is. */
export interface AccountChanges {
  passwordHash?: string;
  /** null: enabled again. */
  disabledAt?: number | null;
  lastLoginAt?: number;
}

export interface AccountStore {
  /** Claims the username atomically; false when it is taken (in any letter case). */
  create(account: Account): Promise<boolean>;
  findByUsername(username: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  /** Every account, in no particular order: a walk over all of storage, for operators. */
  list(): Promise<Account[]>;
  /** False when no account has this id: a change never brings a deleted account back. */
  update(id: string, changes: AccountChanges): Promise<boolean>;
  /** Removes the account and frees its username; false when no account has this id. */
  delete(id: string): Promise<boolean>;
}

export interface Note {
  id: string;
  text: string;
  createdAt: number;
}

/** A new note's id. Both stores issue these, so a note id that is not one names no note in either. */
export const newNoteId = (): string => randomUUID();

/** The form of newNoteId's ids: a lowercase random (version 4) UUID. */
export const NOTE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const isNoteId = (id: string): boolean => NOTE_ID.test(id);

/** Per-user notes, the MCP tools' data. Every call names the owner: one user never reaches another's notes. */
export interface NotesStore {
  /** Undefined when the user already has `limit` notes. */
  add(accountId: string, text: string, limit: number): Promise<Note | undefined>;
  /** Oldest first. */
  list(accountId: string): Promise<Note[]>;
  /** False when the user has no note with this id (an id of any other form than newNoteId's included). */
  delete(accountId: string, id: string): Promise<boolean>;
  /** Removes every note of the user. */
  deleteAll(accountId: string): Promise<void>;
}

export interface Consent {
  clientId: string;
  /**
   * The app as the consent page named it: its name and, for a Client ID Metadata Document, the host of its client_id.
   * Kept so that listing a user's consents loads no client (for such a document, a fetch from its host).
   */
  client: { name: string; domain?: string };
  grantId: string;
  grantedAt: number;
  /** Epoch milliseconds: when the grant ends, and the consent with it. */
  expiresAt: number;
}

/**
 * What each user allowed each third-party client, while its grant lasts, so consent is asked once, and can be seen
 * and taken back. A consent past its expiresAt is found nowhere, and the store lets go of it.
 */
export interface ConsentStore {
  /** Remembers the consent, granted now, in place of any earlier one for the client. */
  remember(accountId: string, consent: Omit<Consent, 'grantedAt'>): Promise<void>;
  find(accountId: string, clientId: string): Promise<Consent | undefined>;
  list(accountId: string): Promise<Consent[]>;
  /** Removes and returns the consent, if there was one. */
  forget(accountId: string, clientId: string): Promise<Consent | undefined>;
  /** Removes every consent of the user. */
  forgetAll(accountId: string): Promise<void>;
}

/** Something that made cached authorizations stale: a token destroyed, or a whole grant revoked. */
export type Invalidation = { token: string } | { grant: string };

/**
 * Tells every instance (in Redis mode: every process on this Redis, through pub/sub) what was revoked, so
 * caches drop it within milliseconds. `onReset` fires when messages may have been missed (a reconnect):
 * listeners must then forget everything.
 */
export interface InvalidationBus {
  publish(invalidation: Invalidation): Promise<void>;
  subscribe(listener: (invalidation: Invalidation) => void, onReset: () => void): void;
}

/** Counts attempts per key in a fixed window (brute-force and abuse limits); shared by instances on Redis. */
export interface Limiter {
  /**
   * Counts one attempt against `key` in one atomic step, before the attempt is made, so that concurrent
   * attempts cannot all pass a check that none of them has counted yet. 0: within the limit, and counted.
   * Otherwise the seconds until `key` may try again, and the attempt is not counted.
   */
  take(key: string): Promise<number>;
  /**
   * Uncounts an attempt take() counted, once it turns out not to count (say, the password was right). Never
   * fails: while storage is away it keeps trying for a while in the background, since a count left too high
   * would refuse good requests until its window ends.
   */
  giveBack(key: string): Promise<void>;
}

export type LimiterFactory = (name: string, attempts: number, windowSeconds: number) => Limiter;

/** Where generated key material lives when the configuration gives none. */
export interface KeyVault {
  /** For the start-up log. */
  readonly description: string;
  /** The stored value under `name`, or `generate()`'s, stored for next time where storage outlives us. */
  loadOrCreate(name: string, generate: () => string): Promise<string>;
}

/** A record of one of the provider's models, as stored. */
export interface StoredRecord {
  model: string;
  id: string;
  payload: AdapterPayload;
}

/** The date of a record's epoch-seconds claim (`iat`, `exp`, `client_id_issued_at`); undefined when it has none. */
export const epochDate = (seconds: unknown): Date | undefined => (typeof seconds === 'number' ? new Date(seconds * 1000) : undefined);

export interface OidcStorage {
  /** One adapter per oidc-provider model name. */
  factory: AdapterFactory;
  /**
   * The live Sessions and Grants of an account (a signed-in browser, an app's access), whatever the client: what
   * signing out everywhere, disabling and deleting the account end.
   */
  ofAccount(accountId: string): Promise<StoredRecord[]>;
  /** The live Grants of a client, whoever the user: what revoking the app everywhere ends. */
  grantsOfClient(clientId: string): Promise<StoredRecord[]>;
  /**
   * For each of `models`, the live record of it issued under the grant that expires last, if there is one: for a model
   * whose records all live equally long, the newest. Costs the grant's index and one read per model found.
   */
  newestOfGrant(grantId: string, models: readonly string[]): Promise<StoredRecord[]>;
  /** The ids of every live record of `model`: a walk over all of storage, for operators (say, the registered clients). */
  ids(model: string): Promise<string[]>;
  close(): void;
}

export interface Stores {
  accounts: AccountStore;
  notes: NotesStore;
  consents: ConsentStore;
  invalidations: InvalidationBus;
  limiter: LimiterFactory;
  oidc: OidcStorage;
  keys: KeyVault;
  /** For the start-up log, e.g. "in memory ..." or "Redis at ...". */
  description: string;
  /** True when storage answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The key an account is unique under. */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}
