import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { KeyVault } from '../adapters/stores.js';
import type { Config } from './env.js';

export interface Keys {
  cookieKeys: string[];
  jwks: { keys: Record<string, unknown>[] };
  /** The names of the keys that came from the vault rather than the configuration. */
  generated: string[];
}

/** A fresh COOKIE_KEYS: one random key of 256 bits. */
export const newCookieKeys = (): string[] => [randomBytes(32).toString('base64url')];

/** A fresh JWKS: one private RS256 signing key (RSA 2048), the algorithm every client here is given. */
export function newJwks(): Keys['jwks'] {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
}

/** Configured keys win; otherwise the vault's (kept in Redis, or fresh for this process in memory mode). */
export async function resolveKeys(config: Config, vault: KeyVault): Promise<Keys> {
  const generated: string[] = [];
  let cookieKeys = config.cookieKeys;
  if (!cookieKeys) {
    cookieKeys = JSON.parse(await vault.loadOrCreate('cookie-keys', () => JSON.stringify(newCookieKeys()))) as string[];
    generated.push('COOKIE_KEYS');
  }
  let jwks = config.jwks;
  if (!jwks) {
    jwks = JSON.parse(await vault.loadOrCreate('jwks', () => JSON.stringify(newJwks()))) as Keys['jwks'];
    generated.push('JWKS');
  }
  return { cookieKeys, jwks, generated };
}
