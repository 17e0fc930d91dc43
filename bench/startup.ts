import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { newCookieKeys, newJwks } from '../config/keys.js';
import { load, median } from './load.js';
import { cpuMs, freePort, processTree, residentBytes } from './processes.js';
import type { Row } from './run.js';

/*
 * The three ways to start the server, side by side in the same run: `npm start` (development: npm, a shell, tsx's
 * CLI and its node child), `node --import tsx src/server.ts` (what the Docker image ran before the build) and
 * `node dist/src/server.js` (npm run start:prod and the image now). As in production: on the storage given, with
 * JWKS and COOKIE_KEYS set; and once more as the development default, in memory with keys generated per process.
 * Memory and CPU are those of the whole process tree each command starts.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 5;
const POLL_MS = 10;
const SETTLE_MS = 2_000;
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const DISCOVERY = '/.well-known/openid-configuration';
const MIB = 2 ** 20;

const VARIANTS = {
  'npm start (tsx)': ['npm', 'start'],
  'node --import tsx src/server.ts': [process.execPath, '--import', 'tsx', 'src/server.ts'],
  'node dist/src/server.js': [process.execPath, 'dist/src/server.js'],
} satisfies Record<string, string[]>;
type Variant = keyof typeof VARIANTS;
const COMPILED: Variant = 'node dist/src/server.js';
const BASELINES: Variant[] = ['npm start (tsx)', 'node --import tsx src/server.ts'];
/** What the starts inherit of this process's environment: not its storage or keys. */
const { REDIS_URL: _url, REDIS_PREFIX: _prefix, JWKS: _jwks, JWKS_FILE: _jwksFile, COOKIE_KEYS: _cookieKeys, ...INHERITED } = process.env;

interface Started {
  child: ChildProcess;
  url: string;
  /** Milliseconds from spawn to the first 200 of /healthz (the process listens) and of discovery (it serves). */
  listeningMs: number;
  readyMs: number;
  /** CPU milliseconds the tree had used when it was ready. */
  readyCpuMs: number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The resident memory and CPU time of a process tree, and how many processes it has. */
async function treeUsage(pid: number): Promise<{ bytes: number; cpuMs: number; processes: number }> {
  const tree = await processTree(pid);
  let bytes = 0;
  let cpu = 0;
  for (const member of tree) {
    bytes += await residentBytes(member) ?? 0;
    cpu += await cpuMs(member).catch(() => 0);
  }
  return { bytes, cpuMs: cpu, processes: tree.length };
}

/** Polls `url` every POLL_MS until it answers 200; the child's exit or 60 s end the wait with an error. */
async function firstOk(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(url).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.ok) return;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${url} never answered: ${output()}`);
    await sleep(POLL_MS);
  }
}

/** Starts `variant` with `env` in a process group of its own, so that stopping it stops every process it started. */
async function startVariant(variant: Variant, env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const [command, ...args] = VARIANTS[variant];
  const started = performance.now();
  const child = spawn(command!, args, {
    cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...INHERITED, PORT: String(port), ISSUER: url, LOG_LEVEL: 'warn', ...env },
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  try {
    await firstOk(`${url}/healthz`, child, () => output);
    const listeningMs = performance.now() - started;
    await firstOk(`${url}${DISCOVERY}`, child, () => output);
    const readyMs = performance.now() - started;
    const { cpuMs: readyCpuMs } = await treeUsage(child.pid!);
    return { child, url, listeningMs, readyMs, readyCpuMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The tree's highest resident memory, sampled every 100 ms while autocannon asks for discovery. */
async function underLoad(server: Started): Promise<{ bytes: number; requestsPerSecond: number }> {
  let peak = 0;
  let loading = true;
  const sampling = (async () => {
    while (loading) {
      peak = Math.max(peak, (await treeUsage(server.child.pid!)).bytes);
      await sleep(100);
    }
  })();
  const result = await load({ url: `${server.url}${DISCOVERY}`, pid: server.child.pid!, seconds: LOAD_SECONDS });
  loading = false;
  await sampling;
  if (result.errors || result.non2xx) throw new Error(`load: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  return { bytes: peak, requestsPerSecond: result.requestsPerSecond };
}

interface Figures {
  listeningMs: number[];
  readyMs: number[];
  readyCpuMs: number[];
  devReadyMs: number[];
  idleBytes: number[];
  processes: number;
  loadBytes: number;
  requestsPerSecond: number;
}

/**
 * RUNS rounds, each starting every variant in turn, so that the machine's ups and downs spread over all of them:
 * as in production (timed, then idle memory after SETTLE_MS; in the last round also under load), then as the
 * development default (timed only).
 */
async function measure(storage: Record<string, string>): Promise<Record<Variant, Figures>> {
  const production = { ...storage, JWKS: JSON.stringify(newJwks()), COOKIE_KEYS: newCookieKeys().join(',') };
  const figures = {} as Record<Variant, Figures>;
  for (const variant of Object.keys(VARIANTS) as Variant[]) {
    figures[variant] = { listeningMs: [], readyMs: [], readyCpuMs: [], devReadyMs: [], idleBytes: [], processes: 0, loadBytes: 0, requestsPerSecond: 0 };
  }
  for (let round = 0; round < RUNS; round++) {
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const mine = figures[variant];
      const server = await startVariant(variant, production);
      try {
        mine.listeningMs.push(server.listeningMs);
        mine.readyMs.push(server.readyMs);
        mine.readyCpuMs.push(server.readyCpuMs);
        await sleep(SETTLE_MS);
        const idle = await treeUsage(server.child.pid!);
        mine.idleBytes.push(idle.bytes);
        mine.processes = idle.processes;
        if (round === RUNS - 1) {
          const loaded = await underLoad(server);
          mine.loadBytes = loaded.bytes;
          mine.requestsPerSecond = loaded.requestsPerSecond;
        }
      } finally {
        await server.stop();
      }
      const development = await startVariant(variant, {});
      mine.devReadyMs.push(development.readyMs);
      await development.stop();
    }
  }
  return figures;
}

const MEASURES = [
  { name: 'start to ready (first discovery answer)', column: 'ready ms', unit: 'ms', of: (f: Figures) => median(f.readyMs), target: '≤ 1/3 (3× faster)', meets: (r: number) => r <= 1 / 3 },
  { name: 'start to listening (first /healthz answer)', column: 'listening ms', unit: 'ms', of: (f: Figures) => median(f.listeningMs) },
  { name: 'CPU time to ready, all processes', column: 'CPU to ready ms', unit: 'ms', of: (f: Figures) => median(f.readyCpuMs) },
  { name: 'start to ready, in memory with keys generated (development default)', column: 'dev default ready ms', unit: 'ms', of: (f: Figures) => median(f.devReadyMs) },
  { name: 'idle resident memory, all processes', column: 'idle MiB', unit: 'MiB', of: (f: Figures) => median(f.idleBytes) / MIB, target: '≤ 2/3 (a third lower)', meets: (r: number) => r <= 2 / 3 },
  { name: `resident memory under load (${LOAD_SECONDS} s of discovery), all processes`, column: 'under load MiB', unit: 'MiB', of: (f: Figures) => f.loadBytes / MIB },
  { name: 'discovery requests per second under that load', column: 'discovery/s', unit: '/s', of: (f: Figures) => f.requestsPerSecond },
];

function printTable(figures: Record<Variant, Figures>, storageName: string): void {
  const columns = [...MEASURES.map(({ column }) => column), 'processes'];
  const rows = [
    ...(Object.entries(figures) as [Variant, Figures][]).map(([variant, f]) => [variant, ...MEASURES.map(({ of }) => of(f).toFixed(0)), String(f.processes)]),
    ...BASELINES.map((baseline) => [
      `compiled ÷ ${baseline}`, ...MEASURES.map(({ of }) => `×${(of(figures[COMPILED]) / of(figures[baseline])).toFixed(2)}`), '',
    ]),
  ];
  const widths = [Math.max(...rows.map((row) => row[0]!.length)), ...columns.map((column) => column.length)];
  const line = (cells: string[]) => `  ${cells.map((cell, i) => (i ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ')}`;
  console.log(`  medians of ${RUNS} starts each; ${storageName}, JWKS and COOKIE_KEYS set (dev default: in memory, keys generated)`);
  console.log(line(['', ...columns]));
  for (const row of rows) console.log(line(row));
}

/**
 * npm run bench, start and memory: prints the table, and reports the compiled server against each tsx way.
 * `storage`: the environment naming the storage (REDIS_URL, REDIS_PREFIX), described as `storageName`.
 */
export async function startupAndMemory(storage: Record<string, string>, storageName: string, report: (row: Row) => void): Promise<void> {
  if (!existsSync(new URL('../dist/src/server.js', import.meta.url))) throw new Error('no dist/src/server.js: run `npm run build` first (npm run bench does)');
  const figures = await measure(storage);
  printTable(figures, storageName);
  const compiled = figures[COMPILED];
  for (const baseline of BASELINES) {
    for (const { name, unit, of, target, meets } of MEASURES) {
      const ratio = of(compiled) / of(figures[baseline]);
      report({
        measurement: `${name}, ${COMPILED}`, value: of(compiled), unit,
        baseline: { name: baseline, value: of(figures[baseline]) }, ratio, ...(target && meets ? { target, met: meets(ratio) } : {}),
      });
    }
  }
}
