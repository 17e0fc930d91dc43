import { COMMANDS, USAGE } from './commands.js';
import { CLIENT_INFO, environment, parseCommandLine, resolveConfig } from './config.js';
import { explain, fail } from './errors.js';

/* The `mcp-oauth` command: parses the command line, runs one command, and turns any failure into one line. */

async function main(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug');
  try {
    const { command, args, flags } = parseCommandLine(argv);
    debug = flags.debug;
    if (flags.version) {
      process.stdout.write(`${CLIENT_INFO.name} ${CLIENT_INFO.version}\n`);
      return 0;
    }
    if (flags.help || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw fail.usage(`Unknown command "${command}"`);
    await run(resolveConfig(flags, environment()), args);
    return 0;
  } catch (err) {
    const { message, exitCode, details } = explain(err, debug);
    process.stderr.write(`mcp-oauth: ${message}\n`);
    if (details) process.stderr.write(`${details}\n`);
    return exitCode;
  }
}

// A reader that goes away early (`mcp-oauth tools | head -1`) ends the output, not with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
