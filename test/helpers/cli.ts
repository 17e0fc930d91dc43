import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The mcp-oauth command line as a user runs it (and mcp-oauth-admin as an operator does): a child process (node
 * with tsx, as `npm run cli` does) in a working directory and home of its own, with only the environment a test
 * gives it. Every child is killed after a deadline, so a test fails instead of hanging.
 */

export const CLI_ENTRY = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
export const ADMIN_ENTRY = fileURLToPath(new URL('../../src/admin/main.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');

/** How a command is started: which entry point, and whether on a terminal of its own. */
export interface Launch {
  entry?: string;
  /**
   * On a pseudo-terminal (util-linux `script`): stdin is a TTY, so the command may prompt, and what it writes to
   * stdout and stderr both arrives on stdout, with CRLF line ends.
   */
  terminal?: boolean;
}

const shellQuote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

function commandLine(args: string[], { entry = CLI_ENTRY, terminal = false }: Launch): [string, string[]] {
  const node = [process.execPath, '--import', TSX_LOADER, entry, ...args];
  return terminal ? ['script', ['-qefc', node.map(shellQuote).join(' '), '/dev/null']] : [node[0]!, node.slice(1)];
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const homes: string[] = [];

/** A home for the CLI: a working directory (for a .env file) and the XDG config directory the tokens go to. */
export function cliHome() {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth-cli-'));
  homes.push(dir);
  const config = join(dir, 'config');
  mkdirSync(config);
  return { dir, config, store: join(config, 'mcp-oauth') };
}

/** Removes every home cliHome() made (with the tokens saved in them). */
export function removeCliHomes(): void {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export type CliHome = ReturnType<typeof cliHome>;

export class CliProcess {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  private readonly child;

  constructor(args: string[], env: Record<string, string>, home: CliHome, timeoutMs = 10_000, launch: Launch = {}) {
    const [file, argv] = commandLine(args, launch);
    this.child = spawn(file, argv, {
      cwd: home.dir,
      env: { PATH: process.env.PATH ?? '', HOME: home.dir, XDG_CONFIG_HOME: home.config, TMPDIR: tmpdir(), ...env },
      stdio: 'pipe',
    });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => { this.stdout += d; });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => { this.stderr += d; });
    this.done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, timeoutMs);
      this.child.on('error', reject);
      this.child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      });
    });
    // The deadline rejects `done`; a test that stopped waiting for it must not turn that into an unhandled rejection.
    this.done.catch(() => {});
  }

  /** Waits until stdout matches `pattern` and returns the match (fails with the output so far). */
  async waitFor(pattern: RegExp, ms = 8_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(this.stdout);
      if (match) return match;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`no ${pattern} in the output\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The authorization URL that `login` prints. */
  async authorizeUrl(): Promise<string> {
    return (await this.waitFor(/^ {2}(https?:\/\/\S+\/oauth\/authorize\?\S+)$/m))[1]!;
  }

  /** Types a line at the prompt, as a user pasting. */
  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  endInput(): void {
    this.child.stdin.end();
  }
}

export function startCli(home: CliHome, env: Record<string, string>, ...args: string[]): CliProcess {
  return new CliProcess(args, env, home);
}

/** startCli with a deadline of its own, for a command that waits longer (the device flow polls every 5 s). */
export function startSlowCli(timeoutMs: number, home: CliHome, env: Record<string, string>, ...args: string[]): CliProcess {
  return new CliProcess(args, env, home, timeoutMs);
}

/** Runs a command to the end, with stdin closed. */
export function runCli(home: CliHome, env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const cli = new CliProcess(args, env, home);
  cli.endInput();
  return cli.done;
}
