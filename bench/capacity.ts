import {
  authorizeSignedIn, client1, connectHost, logIn, mcp, mcpHeaders, mcpRequest, refresh, refreshForm, registerHost, signInThroughPages, signUp,
  type Browser, type Client, type Tokens, type User,
} from './journeys.js';
import { CapacityRig, type LoadedCost, type OperationCost } from './capacity-rig.js';

/*
 * The capacity measurement: what each operation of users and MCP hosts costs Redis, counted by Redis itself
 * (commands, bytes both ways, memory), and what the operations of a user's day cost Redis and the server in CPU time
 * under load. bench/capacity-plan.ts turns these figures into users per GiB and instances per Redis primary.
 */

export interface CapacityOptions {
  /** Times each operation is counted. */
  repetitions: number;
  /** Seconds each operation runs under load, for CPU time. */
  loadSeconds: number;
}

/** CAPACITY_REPETITIONS (100) and CAPACITY_SECONDS (3): about 40 s on a 2-core machine. */
export const capacityOptions = (env = process.env): CapacityOptions => ({
  repetitions: Number(env.CAPACITY_REPETITIONS ?? 100),
  loadSeconds: Number(env.CAPACITY_SECONDS ?? 3),
});

export const COUNTED = {
  signUp: 'sign-up (POST /oauth/register)',
  logIn: 'login (POST /oauth/login, JSON)',
  signIn: 'sign-in, client1: authorize → sign-in page → code → token',
  registerHost: 'client registration (DCR)',
  connectHost: 'host connection, signed in: authorize → consent → code → token',
  firstCall: 'MCP tools/list, token not cached yet (first call)',
  cachedCall: 'MCP tools/list, token cached',
  noteAdd: 'MCP tools/call notes_add, token cached',
  noteList: 'MCP tools/call notes_list, token cached',
  refresh: 'refresh, client1 (confidential: no rotation)',
  rotation: 'refresh with rotation, MCP host (public client)',
} as const;

export const LOADED = {
  noteList: 'MCP tools/call notes_list, token cached',
  firstCall: 'MCP tools/call notes_list, token not cached yet',
  refresh: 'refresh, client1',
  rotation: 'refresh with rotation, MCP host',
  signIn: 'sign-in, client1, through the pages (argon2id)',
} as const;

export interface CapacityMeasurement {
  repetitions: number;
  loadSeconds: number;
  redisVersion: string;
  /** Redis's CPU time with nothing to do, taken off the figures under load. */
  redisIdleCpuMsPerSecond: number;
  counted: Record<keyof typeof COUNTED, OperationCost>;
  loaded: Record<keyof typeof LOADED, LoadedCost>;
}

const NOTES_LIST = mcpRequest('tools/call', { name: 'notes_list', arguments: {} });
const TOOLS_LIST = mcpRequest('tools/list');
const noteAdd = (text: string) => mcpRequest('tools/call', { name: 'notes_add', arguments: { text } });

export async function measureCapacity({ repetitions, loadSeconds }: CapacityOptions): Promise<CapacityMeasurement> {
  const rig = await CapacityRig.start();
  try {
    const { base } = rig;
    const c1 = client1(base);
    const runs = CapacityRig.runs(repetitions);
    const run = `${process.pid}${Date.now().toString(36)}`;
    const users: User[] = Array.from({ length: runs + 1 }, (_, i) => ({ username: `cap${run}u${i}`, password: 'capacity-password-1' }));
    const sessions: Browser[] = [];
    const tokens: Tokens[] = [];
    const hosts: Client[] = [];
    const hostTokens: Tokens[] = [];

    // Once through everything, uncounted: the scripts reach Redis's script cache, the code gets compiled.
    const warm = users[runs]!;
    await signUp(base, warm);
    await logIn(base, warm);
    const warmUp = await signInThroughPages(base, c1, warm);
    const warmHost = await registerHost(base);
    const warmHostTokens = await connectHost(warmUp.browser, warmHost);
    for (const body of [TOOLS_LIST, noteAdd('warm'), NOTES_LIST]) await mcp(base, warmUp.tokens.access_token, body);
    await refresh(base, c1, warmUp.tokens.refresh_token);
    await refresh(base, warmHost, warmHostTokens.refresh_token);

    const count = (key: keyof typeof COUNTED, step: (i: number) => Promise<unknown>) => rig.count(COUNTED[key], repetitions, step);
    const counted = {
      signUp: await count('signUp', (i) => signUp(base, users[i]!)),
      logIn: await count('logIn', (i) => logIn(base, users[i]!)),
      signIn: await count('signIn', async (i) => {
        ({ browser: sessions[i], tokens: tokens[i] } = await signInThroughPages(base, c1, users[i]!));
      }),
      registerHost: await count('registerHost', async (i) => {
        hosts[i] = await registerHost(base);
      }),
      connectHost: await count('connectHost', async (i) => {
        hostTokens[i] = await connectHost(sessions[i]!, hosts[i]!);
      }),
      // The token cache keeps a checked token for 30 s: the calls after the first one come well within that.
      firstCall: await count('firstCall', (i) => mcp(base, tokens[i]!.access_token, TOOLS_LIST)),
      cachedCall: await count('cachedCall', (i) => mcp(base, tokens[i]!.access_token, TOOLS_LIST)),
      noteAdd: await count('noteAdd', (i) => mcp(base, tokens[i]!.access_token, noteAdd(`note ${i}`))),
      noteList: await count('noteList', (i) => mcp(base, tokens[i]!.access_token, NOTES_LIST)),
      refresh: await count('refresh', (i) => refresh(base, c1, tokens[i]!.refresh_token)),
      rotation: await count('rotation', async (i) => {
        hostTokens[i] = await refresh(base, hosts[i]!, hostTokens[i]!.refresh_token);
      }),
    };

    const chains = hostTokens.map((t) => t.refresh_token);
    const callToken = tokens[0]!.access_token;
    await mcp(base, callToken, NOTES_LIST);
    const underLoad = async (seconds: number) => {
      // Tokens never used yet, for first calls: made beforehand, by signed-in browsers (no password to check).
      const unused: string[] = [];
      await CapacityRig.loops(seconds, async (worker) => {
        unused.push((await authorizeSignedIn(sessions[worker % runs]!, c1)).access_token);
      });
      return {
        noteList: await rig.underLoad(LOADED.noteList, () => rig.repeated(seconds, { path: '/mcp', body: NOTES_LIST, headers: mcpHeaders(callToken) })),
        firstCall: await rig.underLoad(LOADED.firstCall, () => CapacityRig.loops(seconds, async () => {
          const token = unused.pop();
          if (!token) return false;
          await mcp(base, token, NOTES_LIST);
        })),
        refresh: await rig.underLoad(LOADED.refresh, () => rig.repeated(seconds, {
          path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(refreshForm(c1, tokens[1 % runs]!.refresh_token)).toString(),
        })),
        rotation: await rig.underLoad(LOADED.rotation, () => CapacityRig.loops(seconds, async (worker) => {
          if (worker >= runs) return false;
          chains[worker] = (await refresh(base, hosts[worker]!, chains[worker]!)).refresh_token;
        })),
        signIn: await rig.underLoad(LOADED.signIn, () => CapacityRig.loops(seconds, async (worker) => {
          await signInThroughPages(base, c1, users[worker % runs]!);
        })),
      };
    };
    // A process's first seconds under load are its slowest (its code is not compiled for them yet): not recorded.
    await underLoad(Math.min(1, loadSeconds));
    const loaded = await underLoad(loadSeconds);
    return { repetitions, loadSeconds, redisVersion: await rig.redisVersion(), redisIdleCpuMsPerSecond: rig.redisIdleCpuMsPerSecond, counted, loaded };
  } finally {
    await rig.stop();
  }
}
