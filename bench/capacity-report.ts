import type { CapacityMeasurement } from './capacity.js';
import type { CapacityPlan } from './capacity-plan.js';

/** A count: whole when it is one, else to a tenth. */
const count = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 1 }));
const whole = (n: number) => Math.round(n).toLocaleString('en-US');
const micros = (ms: number) => whole(ms * 1000);
const percent = (share: number) => `${Math.round(share * 100)}%`;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/** The capacity figures as markdown tables, ready for the README. */
export function capacityReport(measured: CapacityMeasurement, plan: CapacityPlan): string[] {
  const lines = [
    `Redis ${measured.redisVersion}; each operation counted ${measured.repetitions} times, CPU under ${measured.loadSeconds} s of load each`
      + ` (less Redis's ${measured.redisIdleCpuMsPerSecond.toFixed(2)} ms/s when idle).`,
    '',
    row(['operation', 'Redis commands (sent by the server)', 'bytes to Redis', 'bytes from Redis', 'stored (MEMORY USAGE)', 'used_memory', 'stored, by key']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---']),
  ];
  for (const cost of Object.values(measured.counted)) {
    const kinds = Object.entries(cost.stored).sort(([, a], [, b]) => b - a).map(([kind, bytes]) => `${kind} ${whole(bytes)}`).join(', ');
    const stored = Object.values(cost.stored).reduce((a, b) => a + b, 0);
    lines.push(row([cost.operation, `${count(cost.commands)} (${count(cost.commandsSent)})`, whole(cost.bytesIn), whole(cost.bytesOut), whole(stored), whole(cost.usedMemory), kinds]));
  }
  lines.push('', row(['under load', 'operations/s here', 'Redis CPU µs', 'server CPU µs', 'server ÷ Redis']), row(['---', '---:', '---:', '---:', '---:']));
  for (const cost of Object.values(measured.loaded)) {
    lines.push(row([cost.operation, whole(cost.perSecond), micros(cost.redisCpuMs), micros(cost.serverCpuMs), (cost.serverCpuMs / cost.redisCpuMs).toFixed(1)]));
  }
  const { bytes, usersPerGiB, userDay, retentionDays } = plan;
  lines.push(
    '',
    row(['plan', 'figure']),
    row(['---', '---:']),
    row(['Redis memory per stored byte (used_memory ÷ MEMORY USAGE)', plan.memoryOverhead.toFixed(2)]),
    row(['account alone', `${whole(bytes.account)} B → ${whole(usersPerGiB.accounts)} per GiB`]),
    row(['active user: account + session + grant + access and refresh token (code expired)', `${whole(bytes.activeUser)} B → ${whole(usersPerGiB.activeUsers)} per GiB`]),
    row([`kept ${retentionDays} days per sign-in (session, grant, refresh token)`, `${whole(bytes.keptPerSignIn)} B`]),
    row([`kept ${retentionDays} days per refresh rotation (the spent refresh token)`, `${whole(bytes.keptPerRotation)} B`]),
    row([`daily-active user after ${retentionDays} days of ${userDay.signIns} sign-in + ${userDay.rotations} rotations a day`, `${whole(bytes.dailyActiveUser)} B → ${whole(usersPerGiB.dailyActiveUsers)} per GiB`]),
  );
  const { mixes } = plan;
  lines.push(
    '',
    row([`per user-day: ${userDay.signIns} sign-in, ${userDay.rotations} refresh rotations, ${whole(userDay.mcpCalls)} notes_list calls`,
      ...mixes.map((mix) => `${percent(mix.uncachedShare)} of calls uncached`)]),
    row(['---', ...mixes.map(() => '---:')]),
    row(['Redis commands (sent by the server)', ...mixes.map((mix) => `${whole(mix.commands)} (${whole(mix.commandsSent)})`)]),
    row(['bytes to / from Redis', ...mixes.map((mix) => `${whole(mix.bytesToRedis)} / ${whole(mix.bytesFromRedis)}`)]),
    row(['Redis CPU / server CPU', ...mixes.map((mix) => `${whole(mix.redisCpuMs)} ms / ${whole(mix.serverCpuMs)} ms`)]),
    row(['server cores one Redis core keeps up with', ...mixes.map((mix) => mix.serverCoresPerRedisCore.toFixed(1))]),
    row(['users per busy Redis core', ...mixes.map((mix) => whole(mix.usersPerRedisCore))]),
    row(['users per busy server core', ...mixes.map((mix) => whole(mix.usersPerServerCore))]),
  );
  return lines;
}
