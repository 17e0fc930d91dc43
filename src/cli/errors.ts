/*
 * Every way the CLI can fail, as one sentence for the person at the terminal and an exit code for scripts.
 * Details (causes, stacks) are shown only with --debug; secrets and tokens are never part of a message.
 */

export const EXIT = {
  /** Something went wrong: the server refused, could not be reached, the sign-in failed. */
  FAILURE: 1,
  /** The command line itself is wrong: unknown command or option, bad JSON arguments. */
  USAGE: 2,
  /** Not logged in, or the session cannot be renewed: run `mcp-oauth login`. */
  LOGIN_NEEDED: 3,
} as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.FAILURE, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** An error response of the authorization server (RFC 6749 §5.2), before the CLI words it for the user. */
export class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string | undefined, readonly status: number) {
    super(description ? `${error}: ${description}` : error);
    this.name = 'OAuthError';
  }
}

const LOGIN = '`mcp-oauth login`';

export const fail = {
  unreachable: (server: string, cause?: unknown) =>
    new CliError(`Cannot reach the server at ${server}; check that it is running and that AUTH_SERVER (or --server) is right.`, EXIT.FAILURE, { cause }),
  timeout: (server: string, cause?: unknown) =>
    new CliError(`The server at ${server} did not answer in time; try again later.`, EXIT.FAILURE, { cause }),
  notAuthorizationServer: (server: string, cause?: unknown) =>
    new CliError(`The server at ${server} does not publish OAuth authorization server metadata; check AUTH_SERVER (or --server).`, EXIT.FAILURE, { cause }),
  issuerMismatch: (server: string, issuer: string) =>
    new CliError(`The server at ${server} calls itself ${issuer}; set AUTH_SERVER (or --server) to ${issuer}.`, EXIT.USAGE),
  notLoggedIn: (server: string) =>
    new CliError(`You are not logged in to ${server}; run ${LOGIN} first.`, EXIT.LOGIN_NEEDED),
  sessionExpired: (cause?: unknown) =>
    new CliError(`Your session has expired; run ${LOGIN} again.`, EXIT.LOGIN_NEEDED, { cause }),
  otherClient: (server: string, clientId: string) =>
    new CliError(`You logged in to ${server} with the client ${clientId}; set CLIENT_ID and CLIENT_SECRET for it, or run ${LOGIN} again.`, EXIT.USAGE),
  revokeRefused: (error: string, file: string, cause?: unknown) =>
    new CliError(`The server refused to revoke the tokens (${error}), so they are still saved in ${file}; try again, or run with --debug.`, EXIT.FAILURE, { cause }),
  unreadableStore: (file: string, cause?: unknown) =>
    new CliError(`The saved login in ${file} cannot be read; run ${LOGIN} again.`, EXIT.LOGIN_NEEDED, { cause }),
  stateMismatch: () =>
    new CliError(`The sign-in response does not belong to this login (its state does not match), so it was refused; run ${LOGIN} again.`),
  issMismatch: (issuer: string, iss: string) =>
    new CliError(`The sign-in response came from ${iss}, not from ${issuer}, so it was refused; run ${LOGIN} again.`),
  accessDenied: () =>
    new CliError(`The sign-in was cancelled or access was denied, so you are not logged in; run ${LOGIN} to try again.`),
  authorizationFailed: (error: string, description?: string) =>
    new CliError(`The server refused the sign-in (${error}${description ? `: ${description}` : ''}); run ${LOGIN} again.`),
  noCode: () =>
    new CliError('No authorization code was entered; paste the code, or the whole address of the page you landed on.'),
  badCode: (cause?: unknown) =>
    new CliError(`The authorization code was refused because it has expired or was already used; run ${LOGIN} again and paste the new code within a minute.`, EXIT.FAILURE, { cause }),
  badClient: (clientId: string, cause?: unknown) =>
    new CliError(`The server does not accept the client ${clientId} with the given secret; check CLIENT_ID and CLIENT_SECRET.`, EXIT.FAILURE, { cause }),
  deviceRefused: (clientId: string, description: string | undefined, cause?: unknown) =>
    new CliError(`The server will not start the device flow for the client ${clientId}${description ? ` (${description})` : ''}; log in without --device.`, EXIT.FAILURE, { cause }),
  deviceExpired: () =>
    new CliError(`The code was not entered in time; run ${LOGIN} --device again.`),
  loginTimeout: () =>
    new CliError(`No sign-in arrived from the browser in time; run ${LOGIN} again.`),
  serverError: (what: string, cause?: unknown) =>
    new CliError(`The server failed to ${what}; try again, or run with --debug for details.`, EXIT.FAILURE, { cause }),
  badJsonArgs: (detail: string) =>
    new CliError(`The tool arguments must be a JSON object, like '{"text":"hello"}' (${detail}).`, EXIT.USAGE),
  usage: (message: string) =>
    new CliError(`${message}; run \`mcp-oauth help\` for the usage.`, EXIT.USAGE),
  noMcpEndpoint: (resource: string, cause?: unknown) =>
    new CliError(`There is no MCP server at ${resource}; check AUTH_SERVER (or --server).`, EXIT.FAILURE, { cause }),
  mcpRefused: (detail: string, cause?: unknown) =>
    new CliError(`The MCP server refused the request: ${detail}.`, EXIT.FAILURE, { cause }),
};

/** A network failure of fetch (refused, unknown host, reset) rather than an HTTP answer. */
export function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && /fetch failed|network/i.test(err.message);
}

export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** The one line shown for an error, and with --debug the details below it. */
export function explain(err: unknown, debug: boolean): { message: string; exitCode: number; details?: string } {
  const known = err instanceof CliError;
  const message = known ? err.message : `Unexpected error: ${oneLine(err)} (run with --debug for details).`;
  const exitCode = known ? err.exitCode : EXIT.FAILURE;
  return debug ? { message, exitCode, details: details(err) } : { message, exitCode };
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.replace(/\.$/, '');
}

function details(err: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    lines.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    e = e instanceof Error ? e.cause : undefined;
    if (e !== undefined) lines.push('caused by:');
  }
  return lines.join('\n');
}
