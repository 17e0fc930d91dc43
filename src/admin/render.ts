import type { Account } from '../../adapters/stores.js';
import type { AccessGrant, SignedInSession } from '../accounts/lifecycle.js';
import type { ClientDetails, ClientSummary } from '../oauth/client-directory.js';
import { table } from '../cli/output.js';

/* What the commands print for people; --json prints the same facts as data (see the commands). */

/** A moment in UTC, to the second. */
export const when = (date: Date | number | undefined): string =>
  (date === undefined ? '-' : new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** Rows under their headers, each column as wide as its widest cell. */
export function columns(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
  return [headers, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join(''));
}

export const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

export const status = (account: Account) => (account.disabledAt ? `disabled since ${when(account.disabledAt)}` : 'active');

export function userRows(accounts: Account[]): string[] {
  if (!accounts.length) return ['No users yet.'];
  return columns(['USERNAME', 'USER ID', 'CREATED', 'STATUS', 'LAST SIGN-IN'], accounts.map((account) => [
    account.username, account.id, when(account.createdAt), account.disabledAt ? 'disabled' : 'active',
    account.lastLoginAt ? when(account.lastLoginAt) : 'never',
  ]));
}

const grantLine = (who: string, grant: AccessGrant) =>
  `  ${who}: ${grant.scopes.join(' ') || '(no scope)'} (allowed ${when(grant.grantedAt)}, until ${when(grant.expiresAt)})`;

export function userDetails(account: Account, notes: number, access: { sessions: SignedInSession[]; grants: AccessGrant[] }): string[] {
  return [
    ...table([
      ['Username', account.username],
      ['User id', account.id],
      ['Created', when(account.createdAt)],
      ['Status', status(account)],
      ['Last sign-in', account.lastLoginAt ? when(account.lastLoginAt) : 'never (with a password)'],
      ['Notes', String(notes)],
      ['Browser sessions', String(access.sessions.length)],
      ['Apps', access.grants.length ? String(access.grants.length) : 'none'],
    ]),
    ...access.grants.map((grant) => grantLine(grant.clientId, grant)),
  ];
}

const KIND_WORDS: Record<ClientSummary['kind'], string> = {
  static: 'configured',
  registered: 'registered',
  'metadata-document': 'metadata document',
};

const kind = (client: ClientSummary) => `${KIND_WORDS[client.kind]}${client.firstParty ? ', first-party' : ''}`;

export function clientRows(clients: ClientSummary[]): string[] {
  return columns(['CLIENT ID', 'NAME', 'KIND', 'REGISTERED', 'USERS'], clients.map((client) => [
    client.clientId, client.name, kind(client), client.createdAt ? when(client.createdAt) : '-', String(client.grants),
  ]));
}

export function clientDetails(client: ClientDetails): string[] {
  const rows: [string, string][] = [
    ['Client id', client.clientId],
    ['Name', client.name],
    ['Kind', kind(client)],
  ];
  if (client.createdAt) rows.push(['Registered', when(client.createdAt)]);
  if (client.expiresIfUnusedAt) rows.push(['Expires if unused', `after ${when(client.expiresIfUnusedAt)}`]);
  if (client.redirectUris.length) rows.push(['Redirect URIs', client.redirectUris.join(' ')]);
  if (client.grantTypes.length) rows.push(['Grant types', client.grantTypes.join(' ')]);
  if (client.tokenEndpointAuthMethod) rows.push(['Authentication', client.tokenEndpointAuthMethod]);
  rows.push(['Users', client.users.length ? String(client.users.length) : 'none']);
  return [...table(rows), ...client.users.map((user) => grantLine(user.username ?? `(user id ${user.accountId})`, user))];
}
