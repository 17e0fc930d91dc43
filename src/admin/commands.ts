import type { Account } from '../../adapters/stores.js';
import { newCookieKeys, newJwks } from '../../config/keys.js';
import type { Ended } from '../accounts/lifecycle.js';
import type { ClientDetails } from '../oauth/client-directory.js';
import { NewCredentials } from '../accounts/rules.js';
import { storageStats } from '../ops/stats.js';
import { fail } from './errors.js';
import { clientDetails, clientRows, plural, userDetails, userRows, when } from './render.js';
import type { Operations } from './storage.js';

/* The commands: each checks its input, acts through the domain operations, and says what it did. */

/** What a command prints: lines for people, or with --json one JSON document for scripts. */
export interface Output {
  human: string[];
  json: unknown;
}

export type CommandOption = 'password' | 'user' | 'yes';

export interface Flags {
  json: boolean;
  yes: boolean;
  password?: string;
  user?: string;
  debug: boolean;
  help: boolean;
  version: boolean;
}

export interface Invocation {
  args: string[];
  flags: Flags;
  /** Asks before a change, unless --yes; refuses when the operator says no. */
  confirm(question: string): Promise<void>;
  /** The new password: --password, or typed twice on the terminal. */
  newPassword(username: string): Promise<string>;
}

interface Spec {
  /** As in the usage: "users show <username>". */
  usage: string;
  summary: string;
  /** How many positional arguments it takes (each one is required). */
  args: number;
  /** The options it takes besides the global ones; a required one is named in `required`. */
  options?: CommandOption[];
  required?: CommandOption[];
}

export type Command = Spec & (
  | { offline: true; run(invocation: Invocation): Promise<Output> }
  | { offline?: false; run(invocation: Invocation, ops: Operations): Promise<Output> }
);

const accountJson = (account: Account) => ({
  username: account.username,
  id: account.id,
  createdAt: new Date(account.createdAt),
  disabled: account.disabledAt !== undefined,
  ...(account.disabledAt ? { disabledAt: new Date(account.disabledAt) } : {}),
  ...(account.lastLoginAt ? { lastLoginAt: new Date(account.lastLoginAt) } : {}),
});

const endedJson = (ended: Ended) => ({ sessionsEnded: ended.sessions, grantsRevoked: ended.grants });

const endedWords = (ended: Ended) =>
  `ended ${plural(ended.sessions, 'browser session')} and revoked ${plural(ended.grants, 'app grant')} with their tokens`;

async function existingUser(ops: Operations, username: string): Promise<Account> {
  const account = await ops.accounts.find(username);
  if (!account) throw fail.notFound(`There is no user ${username}.`);
  return account;
}

async function existingClient(ops: Operations, clientId: string): Promise<ClientDetails> {
  const client = await ops.clients.find(clientId);
  if (!client) throw fail.notFound(`There is no client ${clientId}.`);
  return client;
}

/** `value` as the sign-up rules allow it for `field`, else a usage error naming the rule. */
function checkedCredential(field: 'username' | 'password', value: string): string {
  const checked = NewCredentials.shape[field].safeParse(value);
  if (!checked.success) throw fail.badInput(`The ${checked.error.issues[0]!.message}; nothing was changed.`);
  return checked.data;
}

async function validPassword(invocation: Invocation, username: string): Promise<string> {
  return checkedCredential('password', await invocation.newPassword(username));
}

export const COMMANDS: Record<string, Command> = {
  'users list': {
    usage: 'users list',
    summary: 'Every user: id, creation, status, last sign-in',
    args: 0,
    async run(_invocation, ops) {
      const accounts = await ops.accounts.list();
      return { human: userRows(accounts), json: accounts.map(accountJson) };
    },
  },

  'users show': {
    usage: 'users show <username>',
    summary: "A user, their browser sessions and the apps they allowed",
    args: 1,
    async run({ args: [username] }, ops) {
      const account = await existingUser(ops, username!);
      const [notes, access] = await Promise.all([ops.stores.notes.list(account.id), ops.accounts.access(account.id)]);
      return {
        human: userDetails(account, notes.length, access),
        json: { ...accountJson(account), notes: notes.length, ...access },
      };
    },
  },

  'users create': {
    usage: 'users create <username> [--password <password>]',
    summary: 'Create a user (asks for the password when --password is left out)',
    args: 1,
    options: ['password'],
    async run(invocation, ops) {
      const username = checkedCredential('username', invocation.args[0]!);
      const taken = () => fail.refused(`The username ${username} is already taken; nothing was changed.`);
      if (await ops.accounts.find(username)) throw taken();
      const account = await ops.accounts.create({ username, password: await validPassword(invocation, username) });
      if (!account) throw taken();
      return { human: [`Created the user ${account.username} (user id ${account.id}).`], json: accountJson(account) };
    },
  },

  'users disable': {
    usage: 'users disable <username> [--yes]',
    summary: 'Refuse their sign-ins, end their browser sessions, revoke their apps',
    args: 1,
    options: ['yes'],
    async run(invocation, ops) {
      const account = await existingUser(ops, invocation.args[0]!);
      await invocation.confirm(`Disable ${account.username}: refuse their sign-ins, end their browser sessions and revoke their apps?`);
      const ended = await ops.accounts.disable(account);
      const what = account.disabledAt ? `${account.username} was disabled already` : `Disabled ${account.username}: sign-ins are refused`;
      return {
        human: [`${what}; ${endedWords(ended)}.`],
        json: { ...accountJson(await existingUser(ops, account.username)), ...endedJson(ended) },
      };
    },
  },

  'users enable': {
    usage: 'users enable <username>',
    summary: 'Let a disabled user sign in again',
    args: 1,
    async run({ args: [username] }, ops) {
      const account = await existingUser(ops, username!);
      if (account.disabledAt) await ops.accounts.enable(account);
      return {
        human: [account.disabledAt ? `Enabled ${account.username}: they can sign in again.` : `${account.username} is not disabled; nothing to do.`],
        json: { ...accountJson(await existingUser(ops, account.username)), wasDisabled: account.disabledAt !== undefined },
      };
    },
  },

  'users reset-password': {
    usage: 'users reset-password <username> [--password <password>] [--yes]',
    summary: 'Set a new password; ends their browser sessions and revokes their apps',
    args: 1,
    options: ['password', 'yes'],
    async run(invocation, ops) {
      const account = await existingUser(ops, invocation.args[0]!);
      await invocation.confirm(`Set a new password for ${account.username}, and end their browser sessions and revoke their apps?`);
      const ended = await ops.accounts.resetPassword(account, await validPassword(invocation, account.username));
      return {
        human: [`Set a new password for ${account.username}; ${endedWords(ended)}.`],
        json: { ...accountJson(account), ...endedJson(ended) },
      };
    },
  },

  'users delete': {
    usage: 'users delete <username> [--yes]',
    summary: 'Delete a user and all of theirs: notes, apps, tokens, consents, sessions',
    args: 1,
    options: ['yes'],
    async run(invocation, ops) {
      const account = await existingUser(ops, invocation.args[0]!);
      await invocation.confirm(`Delete the user ${account.username} and their notes, apps and sessions? This cannot be undone.`);
      const deleted = await ops.accounts.delete(account);
      return {
        human: [`Deleted the user ${account.username} and ${plural(deleted.notes, 'note')}; ${endedWords(deleted)}.`],
        json: { username: account.username, id: account.id, deleted: true, notesDeleted: deleted.notes, ...endedJson(deleted) },
      };
    },
  },

  'clients list': {
    usage: 'clients list',
    summary: 'The configured clients, then the self-registered ones, with how many users each has',
    args: 0,
    async run(_invocation, ops) {
      const clients = await ops.clients.list();
      return { human: clientRows(clients), json: clients };
    },
  },

  'clients show': {
    usage: 'clients show <client_id>',
    summary: 'A client, its metadata and the users who allowed it',
    args: 1,
    async run({ args: [clientId] }, ops) {
      const client = await existingClient(ops, clientId!);
      return { human: clientDetails(client), json: client };
    },
  },

  'clients delete': {
    usage: 'clients delete <client_id> [--yes]',
    summary: 'Delete a self-registered client and revoke its grants and tokens',
    args: 1,
    options: ['yes'],
    async run(invocation, ops) {
      const [clientId] = invocation.args as [string];
      const client = await existingClient(ops, clientId);
      if (client.kind === 'static') {
        throw fail.refused(`${clientId} is configured in the server's environment, not registered, so it cannot be deleted; \`clients revoke ${clientId}\` ends its users' access.`);
      }
      if (client.kind === 'metadata-document') {
        throw fail.refused(`${clientId} is described by its Client ID Metadata Document, which is fetched, not stored, so there is nothing to delete; \`clients revoke ${clientId}\` ends its users' access.`);
      }
      await invocation.confirm(`Delete the client ${client.name} (${clientId}) and revoke the access of its ${plural(client.grants, 'user')}?`);
      const grants = (await ops.clients.deleteRegistered(clientId)) ?? 0;
      return {
        human: [`Deleted the client ${client.name} (${clientId}) and revoked ${plural(grants, 'grant')} with their tokens.`],
        json: { clientId, name: client.name, deleted: true, grantsRevoked: grants },
      };
    },
  },

  'clients revoke': {
    usage: 'clients revoke <client_id> [--yes]',
    summary: 'Revoke every grant and token of a client, for every user, on every instance',
    args: 1,
    options: ['yes'],
    async run(invocation, ops) {
      const [clientId] = invocation.args as [string];
      const client = await existingClient(ops, clientId);
      await invocation.confirm(`Revoke the access of ${client.name} (${clientId}) for its ${plural(client.grants, 'user')}? Each must allow it again.`);
      const grants = await ops.clients.revoke(clientId);
      return {
        human: [`Revoked ${plural(grants, 'grant')} of ${client.name} (${clientId}) with every token issued under them.`],
        json: { clientId, name: client.name, grantsRevoked: grants },
      };
    },
  },

  'sessions revoke': {
    usage: 'sessions revoke --user <username> [--yes]',
    summary: "End every browser session of a user, as signing out of each would (apps' access goes on)",
    args: 0,
    options: ['user', 'yes'],
    required: ['user'],
    async run(invocation, ops) {
      const account = await existingUser(ops, invocation.flags.user!);
      await invocation.confirm(`End every browser session of ${account.username}?`);
      const ended = await ops.accounts.signOutEverywhere(account.id);
      return {
        human: [`Ended ${plural(ended.sessions, 'browser session')} of ${account.username} and revoked the ${plural(ended.grants, 'grant')} tied to them.`],
        json: { username: account.username, id: account.id, ...endedJson(ended) },
      };
    },
  },

  'keys generate': {
    usage: 'keys generate',
    summary: 'New signing keys (JWKS) and cookie keys for the environment (needs no storage)',
    args: 0,
    offline: true,
    async run() {
      const jwks = newJwks();
      const cookieKeys = newCookieKeys();
      return {
        human: [
          "# The server's keys: put these lines in its environment (its .env file, say) and keep them secret.",
          `JWKS='${JSON.stringify(jwks)}'`,
          `COOKIE_KEYS=${cookieKeys.join(',')}`,
        ],
        json: { jwks, cookieKeys },
      };
    },
  },

  stats: {
    usage: 'stats',
    summary: 'How many users, self-registered clients and active grants',
    args: 0,
    async run(_invocation, ops) {
      const stats = await storageStats(ops.stores);
      return {
        human: [
          `Users:               ${stats.users}${stats.disabledUsers ? ` (${stats.disabledUsers} disabled)` : ''}`,
          `Registered clients:  ${stats.registeredClients}`,
          `Active grants:       ${stats.activeGrants}`,
          `As of ${when(Date.now())}, in ${ops.stores.description}.`,
        ],
        json: stats,
      };
    },
  },
};

const width = Math.max(...Object.values(COMMANDS).map((command) => command.usage.length)) + 2;

export const USAGE = `Usage: mcp-oauth-admin <command> [options]

The operator's commands. They act on the server's own storage (Redis), read from the same configuration as the
server: its environment, and a .env file in the working directory.

Commands:
${Object.values(COMMANDS).map((command) => `  ${command.usage.padEnd(width)}${command.summary}`).join('\n')}

Options:
  --json       Print the result as JSON, for scripts
  -y, --yes    Go ahead without asking (needed where stdin is not a terminal)
  --debug      Show the details of errors
  --version    Show the version
  -h, --help   Show this help

Commands that change something ask for a confirmation on a terminal; without one they need --yes.
Exit codes: 0 success, 1 failure, 2 usage error (or a confirmation needed), 3 no such user or client.`;
