import { residentBytes } from '../bench/processes.js';
import type { Instance } from './instances.js';
import type { SoakRedis } from './redis.js';
import type { Tally } from './tally.js';

const SAMPLE_EVERY_MS = 1_000;

export interface Sample {
  at: number;
  /** Resident memory per instance, by incarnation label (A#2); undefined while it is not running. */
  rss: { label: string; bytes: number | undefined }[];
  /** Redis INFO used_memory; undefined while it is away. */
  redis: number | undefined;
}

/** Samples every instance's RSS and Redis's used_memory once a second, until stopped. */
export class MemorySampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly instances: Instance[], private readonly redis: SoakRedis, private readonly tally: Tally) {}

  start(): void {
    const sample = async () => {
      const at = this.tally.now();
      const rss = await Promise.all(this.instances.map(async (i) => {
        const pid = i.pid;
        return { label: i.label, bytes: pid === undefined ? undefined : await residentBytes(pid) };
      }));
      this.samples.push({ at, rss, redis: await this.redis.usedMemory() });
      this.timer = setTimeout(sample, SAMPLE_EVERY_MS);
    };
    void sample();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The last sample of each minute (and of the last, partial one). */
  perMinute(): Sample[] {
    const rows = new Map<number, Sample>();
    for (const s of this.samples) rows.set(Math.floor(s.at / 60_000), s);
    return [...rows.values()];
  }
}
