import type { Flags } from './commands.js';
import { fail } from './errors.js';

/** The options every command reads; which command takes which is checked once the command is known. */
const SWITCHES = { json: 'json', yes: 'yes', debug: 'debug', help: 'help', version: 'version' } as const;
const SHORT: Record<string, keyof typeof SWITCHES> = { y: 'yes', h: 'help' };
const VALUED = ['password', 'user'] as const;

/**
 * Words and options. Only `--name` and the short `-y`, `-h` are options; every other word is an argument, even one
 * that starts with a dash: client ids are random base64url and usernames may start with "-", so either can, and an
 * operator pastes them as `clients list` prints them. A valued option takes the next word as it is, so
 * `--password -x` sets "-x". After `--` everything is an argument.
 */
export function parseCommandLine(argv: string[]): { words: string[]; flags: Flags } {
  const words: string[] = [];
  const flags: Flags = { json: false, yes: false, debug: false, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (/^-[yh]+$/.test(arg)) {
      for (const letter of arg.slice(1)) flags[SHORT[letter]!] = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const [name, inline] = splitOnce(arg.slice(2));
    if (Object.hasOwn(SWITCHES, name)) {
      if (inline !== undefined) throw fail.usage(`Option '--${name}' does not take an argument`);
      flags[SWITCHES[name as keyof typeof SWITCHES]] = true;
    } else if ((VALUED as readonly string[]).includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw fail.usage(`Option '--${name} <value>' argument missing`);
      flags[name as (typeof VALUED)[number]] = value;
    } else {
      throw fail.usage(`Unknown option '--${name}'`);
    }
  }
  return { words, flags };
}

function splitOnce(option: string): [string, string | undefined] {
  const at = option.indexOf('=');
  return at < 0 ? [option, undefined] : [option.slice(0, at), option.slice(at + 1)];
}
