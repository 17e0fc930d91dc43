import { CliError } from '../cli/errors.js';

/* How mcp-oauth-admin fails: one sentence on stderr and an exit code, as the user's mcp-oauth command does. */

export const EXIT = {
  /** Something went wrong: storage cannot be reached or is in memory, the configuration is invalid, a refusal. */
  FAILURE: 1,
  /** The command line is wrong (unknown command or option, a missing argument, bad input), or a confirmation is needed. */
  USAGE: 2,
  /** No user or client by that name. */
  NOT_FOUND: 3,
} as const;

export const fail = {
  usage: (message: string) => new CliError(`${message}; run \`mcp-oauth-admin --help\` for the usage.`, EXIT.USAGE),
  badInput: (message: string) => new CliError(message, EXIT.USAGE),
  notFound: (message: string) => new CliError(message, EXIT.NOT_FOUND),
  refused: (message: string) => new CliError(message, EXIT.FAILURE),
  needsConfirmation: (command: string) =>
    new CliError(`${command} asks for a confirmation, and stdin is not a terminal to ask on; add --yes to go ahead.`, EXIT.USAGE),
  needsPassword: (command: string) =>
    new CliError(`${command} needs --password <password>, since stdin is not a terminal to ask for it on.`, EXIT.USAGE),
  cancelled: () => new CliError('Cancelled; nothing was changed.', EXIT.FAILURE),
  memoryStorage: () => new CliError(
    'The server keeps its data in memory (no REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS is set): an admin command cannot reach it; run it with the server\'s configuration (its environment or .env file).',
    EXIT.FAILURE,
  ),
  invalidConfiguration: (problems: string[]) =>
    new CliError(`The server's configuration is invalid: ${problems.join('; ')}.`, EXIT.FAILURE),
  unreachable: (where: string, seconds: number) =>
    new CliError(`Cannot reach the storage (${where}) within ${seconds} seconds; check that it is running and that the configuration names it.`, EXIT.FAILURE),
  storageFailed: (cause: unknown) =>
    new CliError('The storage stopped answering (an outage or a failover); nothing may have been changed, or only part: run the command again.', EXIT.FAILURE, { cause }),
};
