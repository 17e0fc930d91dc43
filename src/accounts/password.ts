import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the same time as verify on a real hash, for users that do not exist. */
  verifyNothing(password: string): Promise<void>;
}

/** OWASP Password Storage Cheat Sheet, argon2id first option: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function createPasswordHasher(): PasswordHasher {
  let dummyHash: Promise<string> | undefined;
  return {
    hash: (password) => argon2.hash(password, ARGON2_OPTIONS),
    verify: (hash, password) => argon2.verify(hash, password),
    async verifyNothing(password) {
      dummyHash ??= argon2.hash(randomBytes(16).toString('base64url'), ARGON2_OPTIONS);
      await argon2.verify(await dummyHash, password);
    },
  };
}
