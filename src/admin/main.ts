import { explain } from '../cli/errors.js';
import { say } from '../cli/output.js';
import { parseCommandLine } from './command-line.js';
import { COMMANDS, USAGE, type Command, type CommandOption, type Flags, type Invocation } from './commands.js';
import { fail } from './errors.js';
import { askNewPassword, confirm, isInteractive } from './prompts.js';
import type { Operations } from './storage.js';
import { VERSION } from '../version.js';

/* The `mcp-oauth-admin` command: parses the command line, runs one command, and turns any failure into one line. */

const COMMAND_OPTIONS: readonly CommandOption[] = ['password', 'user', 'yes'];

/** The command the words name, and its positional arguments, checked against what it takes. */
function resolve(words: string[], flags: Flags): { name: string; command: Command; args: string[] } {
  const [group = '', action] = words;
  const name = Object.hasOwn(COMMANDS, group) ? group : `${group} ${action ?? ''}`.trim();
  if (!Object.hasOwn(COMMANDS, name)) {
    const actions = Object.keys(COMMANDS).filter((key) => key.startsWith(`${group} `)).map((key) => key.split(' ')[1]);
    if (actions.length && action === undefined) throw fail.usage(`${group} needs one of: ${actions.join(', ')}`);
    throw fail.usage(`Unknown command "${name}"`);
  }
  const command = COMMANDS[name]!;
  const args = words.slice(name.split(' ').length);
  if (args.length !== command.args) {
    throw fail.usage(args.length < command.args ? `${name} needs an argument: ${command.usage}` : `${name} takes ${command.args ? 'one argument' : 'no arguments'}: ${command.usage}`);
  }
  for (const option of COMMAND_OPTIONS) {
    const given = flags[option] !== undefined && flags[option] !== false;
    if (given && !command.options?.includes(option)) throw fail.usage(`${name} takes no --${option}`);
    if (!given && command.required?.includes(option)) throw fail.usage(`${name} needs --${option}: ${command.usage}`);
  }
  return { name, command, args };
}

/**
 * Whether the command can get its confirmation and password: on a terminal they are asked for; otherwise --yes and
 * --password must be given. Checked before storage is touched, so a script that forgot them fails at once.
 */
function interactions(name: string, command: Command, flags: Flags): Pick<Invocation, 'confirm' | 'newPassword'> {
  const interactive = isInteractive();
  if (command.options?.includes('yes') && !flags.yes && !interactive) throw fail.needsConfirmation(name);
  if (command.options?.includes('password') && flags.password === undefined && !interactive) throw fail.needsPassword(name);
  return {
    confirm: (question) => (flags.yes ? Promise.resolve() : confirm(question)),
    newPassword: (username) => (flags.password !== undefined ? Promise.resolve(flags.password) : askNewPassword(username)),
  };
}

async function main(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug');
  // Loaded only for the commands that use storage: the rest (help, usage errors, keys generate) start at once.
  let storage: typeof import('./storage.js') | undefined;
  let ops: Operations | undefined;
  try {
    const { words, flags } = parseCommandLine(argv);
    debug = flags.debug;
    if (flags.version) {
      say(`mcp-oauth-admin ${VERSION}`);
      return 0;
    }
    if (flags.help || !words.length || (words.length === 1 && words[0] === 'help')) {
      say(USAGE);
      return 0;
    }
    const { name, command, args } = resolve(words, flags);
    const invocation: Invocation = { args, flags, ...interactions(name, command, flags) };
    let output;
    if (command.offline) {
      output = await command.run(invocation);
    } else {
      storage = await import('./storage.js');
      output = await command.run(invocation, (ops = await storage.openStorage()));
    }
    if (flags.json) say(JSON.stringify(output.json, null, 2));
    else say(...output.human);
    return 0;
  } catch (err) {
    const { message, exitCode, details } = explain(storage ? storage.asCliError(err) : err, debug);
    process.stderr.write(`mcp-oauth-admin: ${message}\n`);
    if (details) process.stderr.write(`${details}\n`);
    return exitCode;
  } finally {
    await ops?.close().catch(() => {});
  }
}

// A reader that goes away early (`mcp-oauth-admin users list | head -1`) ends the output, not with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

// Exits at once: a storage that never answered may still hold the event loop with its reconnection attempts.
process.exit(await main(process.argv.slice(2)));
