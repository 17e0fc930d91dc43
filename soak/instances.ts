import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/**
 * One server instance as an operator runs it: `node --import tsx src/server.ts` in a process of its own, configured
 * by its environment only, its output appended to a log file. A supervisor's part too: it can be killed and started
 * again on the same port; each start is one incarnation (A#1, A#2, ...).
 */
export class Instance {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  incarnation = 0;

  constructor(readonly name: string, readonly port: number, private readonly env: Record<string, string>, private readonly dir: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return join(this.dir, `instance-${this.name}.log`);
  }

  /** The process id of the running incarnation. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get label(): string {
    return `${this.name}#${this.incarnation}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Spawns the next incarnation and resolves once it is ready (/readyz 200: listening and its storage answers).
   * Its cwd is the soak's directory, so that no .env of the developer's checkout changes its configuration.
   */
  async start(): Promise<void> {
    const log = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', TSX, SERVER], {
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? '', PORT: String(this.port), HOST: '127.0.0.1', ...this.env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    this.incarnation++;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    if (!(await this.ready(30_000))) throw new Error(`instance ${this.label} did not become ready; see ${this.logFile}`);
  }

  /** Sends `signal` and resolves once the process has exited. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.running) this.child!.kill(signal);
    await this.exited;
  }

  /** Whether /readyz answers 200 within `withinMs` (polled directly, not through the proxy). */
  async ready(withinMs: number): Promise<boolean> {
    const deadline = Date.now() + withinMs;
    do {
      const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      await res?.body?.cancel();
      if (res?.status === 200) return true;
      if (!this.running) return false;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    return false;
  }
}
