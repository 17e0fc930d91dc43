import { TTL } from '../config/provider.js';
import type { CapacityMeasurement } from './capacity.js';
import type { OperationCost } from './capacity-rig.js';

/** One active user's day, as the plan assumes it. */
export const USER_DAY = { signIns: 1, rotations: 10, mcpCalls: 1000 } as const;

/**
 * Shares of MCP calls whose token the answering instance has not checked within the token cache's 30 s: a host that
 * makes its calls in bursts to one instance misses about one call in five; one that calls less often than every 30 s,
 * or whose calls a load balancer spreads over many instances, misses them all.
 */
export const UNCACHED_SHARES = [0.2, 1] as const;

/** Days a sign-in's session, grant and refresh token, and a rotated (spent) refresh token, are kept. */
export const RETENTION_DAYS = TTL.RefreshToken / 86_400;

/** Keys that are gone within the hour: codes (60 s), interactions, and the limits' counters, which are per address. */
const transient = (kind: string) => kind === 'AuthorizationCode' || kind === 'Interaction' || kind.startsWith('limit:');

/** MEMORY USAGE of what an operation leaves for longer than an hour; without the access token (1 hour) if so asked. */
function kept(cost: OperationCost, { withAccessToken }: { withAccessToken: boolean }): number {
  return Object.entries(cost.stored)
    .filter(([kind]) => !transient(kind) && (withAccessToken || kind !== 'AccessToken'))
    .reduce((sum, [, bytes]) => sum + bytes, 0);
}

export interface MixFigures {
  uncachedShare: number;
  /** Per user-day. */
  commands: number;
  commandsSent: number;
  bytesToRedis: number;
  bytesFromRedis: number;
  redisCpuMs: number;
  serverCpuMs: number;
  /** Server CPU over Redis CPU: the server cores (instances at one busy core each) one Redis core keeps up with. */
  serverCoresPerRedisCore: number;
  /** Users whose days keep one core busy, their load spread evenly over the day. */
  usersPerRedisCore: number;
  usersPerServerCore: number;
}

export interface CapacityPlan {
  userDay: typeof USER_DAY;
  retentionDays: number;
  /** used_memory over MEMORY USAGE of the counted operations: what Redis's tables and allocator add to the keys. */
  memoryOverhead: number;
  /** MEMORY USAGE bytes. */
  bytes: { account: number; activeUser: number; keptPerSignIn: number; keptPerRotation: number; dailyActiveUser: number };
  /** 1 GiB of used_memory over the bytes above times memoryOverhead. */
  usersPerGiB: { accounts: number; activeUsers: number; dailyActiveUsers: number };
  mixes: MixFigures[];
}

export function capacityPlan({ counted, loaded }: CapacityMeasurement): CapacityPlan {
  const all = Object.values(counted);
  const memoryOverhead = all.reduce((sum, cost) => sum + cost.usedMemory, 0)
    / all.reduce((sum, cost) => sum + Object.values(cost.stored).reduce((a, b) => a + b, 0), 0);

  const account = kept(counted.signUp, { withAccessToken: true });
  const keptPerSignIn = kept(counted.signIn, { withAccessToken: false });
  const keptPerRotation = kept(counted.rotation, { withAccessToken: false });
  const accessToken = counted.signIn.stored.AccessToken ?? 0;
  const bytes = {
    account,
    activeUser: account + kept(counted.signIn, { withAccessToken: true }),
    keptPerSignIn,
    keptPerRotation,
    // Everything a user's days leave within the retention, and the access token of the hour.
    dailyActiveUser: account + RETENTION_DAYS * (USER_DAY.signIns * keptPerSignIn + USER_DAY.rotations * keptPerRotation) + accessToken,
  };
  const perGiB = (userBytes: number) => 2 ** 30 / (userBytes * memoryOverhead);

  const day = (figure: (cost: OperationCost) => number, share: number) =>
    USER_DAY.signIns * figure(counted.signIn) + USER_DAY.rotations * figure(counted.rotation)
    // A call whose token is not cached pays the lookup (what a first tools/list costs) on top of its tool's.
    + USER_DAY.mcpCalls * (figure(counted.noteList) + share * figure(counted.firstCall));
  const cpu = (of: 'redisCpuMs' | 'serverCpuMs', share: number) =>
    USER_DAY.signIns * loaded.signIn[of] + USER_DAY.rotations * loaded.rotation[of]
    + USER_DAY.mcpCalls * ((1 - share) * loaded.noteList[of] + share * loaded.firstCall[of]);
  const mixes = UNCACHED_SHARES.map((share) => {
    const redisCpuMs = cpu('redisCpuMs', share);
    const serverCpuMs = cpu('serverCpuMs', share);
    return {
      uncachedShare: share,
      commands: day((c) => c.commands, share),
      commandsSent: day((c) => c.commandsSent, share),
      bytesToRedis: day((c) => c.bytesIn, share),
      bytesFromRedis: day((c) => c.bytesOut, share),
      redisCpuMs,
      serverCpuMs,
      serverCoresPerRedisCore: serverCpuMs / redisCpuMs,
      usersPerRedisCore: 86_400_000 / redisCpuMs,
      usersPerServerCore: 86_400_000 / serverCpuMs,
    };
  });

  return {
    userDay: USER_DAY,
    retentionDays: RETENTION_DAYS,
    memoryOverhead,
    bytes,
    usersPerGiB: { accounts: perGiB(bytes.account), activeUsers: perGiB(bytes.activeUser), dailyActiveUsers: perGiB(bytes.dailyActiveUser) },
    mixes,
  };
}
