import type { AdapterPayload } from 'oidc-provider';

/**
 * The indexes both storages keep beside the provider's records, so that records can be found by what they belong
 * to: a grant (every token and code issued under it, which revokeByGrantId ends), an account (its browser sessions
 * and grants) and a client (its grants). Every member is "<Model>:<id>", and lives as long as its record.
 *
 * Beside them, pointers find one record by a value in it (findByUid, findByUserCode): see recordPointers.
 */
export type IndexKind = 'grant' | 'account' | 'client';

export interface IndexEntry {
  kind: IndexKind;
  /** The grant id, account id or client id the index is kept for. */
  owner: string;
  member: string;
}

/** What ends a user's access: the browser sessions they signed in with, and what they allowed each app. */
const FOUND_BY_ACCOUNT = new Set(['Session', 'Grant']);

export const memberOf = (model: string, id: string) => `${model}:${id}`;

export function parseMember(member: string): { model: string; id: string } {
  const at = member.indexOf(':');
  return { model: member.slice(0, at), id: member.slice(at + 1) };
}

/** The indexes a record of `model` with this payload belongs to. */
export function recordIndexes(model: string, id: string, payload: AdapterPayload): IndexEntry[] {
  const member = memberOf(model, id);
  const entries: IndexEntry[] = [];
  if (payload.grantId) entries.push({ kind: 'grant', owner: payload.grantId, member });
  if (payload.accountId && FOUND_BY_ACCOUNT.has(model)) entries.push({ kind: 'account', owner: payload.accountId, member });
  if (payload.clientId && model === 'Grant') entries.push({ kind: 'client', owner: payload.clientId, member });
  return entries;
}

/**
 * Whether a record an index lists still belongs to the index's owner. An index may lag behind its records (a
 * session saved again for another account, a crash between two writes): the record decides.
 */
export function stillOwned(kind: 'account' | 'client', owner: string, payload: AdapterPayload | undefined): boolean {
  return kind === 'account' ? payload?.accountId === owner : payload?.clientId === owner;
}

/** A value a record is found by, with the provider's name for its field. */
export interface Pointer {
  field: 'uid' | 'userCode';
  value: string;
}

/**
 * The pointers to a record with this payload: its uid (a Session's, found by the tokens bound to it and by the
 * interaction pages) and its user code (a DeviceCode's). A pointer names one record id, and a later record may take
 * it over: a session saved under a new id keeps its uid (the provider rotates the id at every sign-in). So a record's
 * removal drops its pointers only while they still name it, whenever it comes (spend-last.ts removes the old session
 * once the request succeeded, after the new one was saved).
 */
export function recordPointers(payload: AdapterPayload): Pointer[] {
  const pointers: Pointer[] = [];
  if (payload.uid) pointers.push({ field: 'uid', value: payload.uid });
  if (payload.userCode) pointers.push({ field: 'userCode', value: payload.userCode });
  return pointers;
}
