import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the same time as verify on a real hash, for users that do not exist. */
  verifyNothing(password: string): Promise<void>;
}

/** OWASP Password Storage Cheat Sheet, argon2id first option: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * At most this many hashes at once. argon2 runs on libuv's thread pool (4 threads by default), so a login flood
 * could otherwise keep every core busy hashing and starve the event loop that serves /mcp and the token
 * endpoint. One core is always left to the event loop; further logins wait their turn (a login is slow anyway).
 */
export const HASHING_SLOTS = Math.max(1, availableParallelism() - 1);

/** A counting semaphore: run() waits for a free slot. */
export class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export function createPasswordHasher(slots = HASHING_SLOTS): PasswordHasher {
  const limit = new Slots(slots);
  let dummyHash: Promise<string> | undefined;
  return {
    hash: (password) => limit.run(() => argon2.hash(password, ARGON2_OPTIONS)),
    verify: (hash, password) => limit.run(() => argon2.verify(hash, password)),
    async verifyNothing(password) {
      dummyHash ??= limit.run(() => argon2.hash(randomBytes(16).toString('base64url'), ARGON2_OPTIONS));
      const hash = await dummyHash;
      await limit.run(() => argon2.verify(hash, password));
    },
  };
}
