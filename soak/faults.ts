import { sleep } from './client.js';
import type { Instance } from './instances.js';
import type { SoakRedis } from './redis.js';
import type { Tally } from './tally.js';

/** A supervisor's pause before it starts a process that died again (systemd's RestartSec). */
const RESTART_DELAY_MS = 500;
const REDIS_DOWN_MS = 1_000;

export interface Fault {
  /** When, as a fraction of the soak's duration. */
  at: number;
  name: string;
  /** The instance it stops, if it stops one. */
  instance?: string;
  inject(): Promise<void>;
}

/** What happened to one fault, in milliseconds since the soak began. */
export interface FaultRecord {
  name: string;
  startedAt: number;
  /** The broken part is back: the instance restarted and ready, or redis-server answering again. */
  backAt: number;
  /** Every instance answers /readyz 200 again. */
  readyAt: number;
  /** The instance whose incarnations the fault ended, if it was one. */
  instance?: string;
}

/**
 * The fault schedule, fixed relative to the duration: an instance killed (SIGKILL) and restarted by its supervisor,
 * Redis killed and started again a second later (its AOF brings everything back), an instance stopped as a deploy
 * does (SIGTERM: it drains, exits, and is started again). The last stretch has no fault: it shows the steady state.
 */
export function faultSchedule([a, b]: [Instance, Instance], redis: SoakRedis): Fault[] {
  const restart = async (instance: Instance, signal: NodeJS.Signals) => {
    await instance.stop(signal);
    await sleep(RESTART_DELAY_MS);
    await instance.start();
  };
  return [
    { at: 0.2, name: `SIGKILL instance ${a.name}, restart`, instance: a.name, inject: () => restart(a, 'SIGKILL') },
    {
      at: 0.45,
      name: `Redis killed, back after ${REDIS_DOWN_MS / 1000} s`,
      inject: async () => {
        await redis.kill();
        await sleep(REDIS_DOWN_MS);
        await redis.start();
      },
    },
    { at: 0.7, name: `SIGTERM instance ${b.name}, restart`, instance: b.name, inject: () => restart(b, 'SIGTERM') },
  ];
}

/** Runs each fault at its time; resolves once the last one is over and every instance is ready again. */
export async function injectFaults(schedule: Fault[], seconds: number, instances: Instance[], tally: Tally): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const fault of schedule) {
    await sleep(Math.max(0, fault.at * seconds * 1000 - tally.now()));
    const startedAt = tally.now();
    console.log(`  ${(startedAt / 1000).toFixed(1)} s: ${fault.name}`);
    await fault.inject();
    const backAt = tally.now();
    const ready = await Promise.all(instances.map((i) => i.ready(60_000)));
    if (ready.includes(false)) tally.problem('fault', `${fault.name}: not every instance ready 60 s after it`);
    records.push({ name: fault.name, startedAt, backAt, readyAt: tally.now(), ...(fault.instance && { instance: fault.instance }) });
  }
  return records;
}
