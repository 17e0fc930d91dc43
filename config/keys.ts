import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { Config } from './env.js';

export interface Keys {
  cookieKeys: string[];
  jwks: { keys: Record<string, unknown>[] };
  /** Names of the keys generated for this process only (each worth a warning). */
  generated: string[];
}

/** Configured keys win; otherwise fresh ones that live as long as the process. */
export function resolveKeys(config: Config): Keys {
  const generated: string[] = [];
  let cookieKeys = config.cookieKeys;
  if (!cookieKeys) {
    cookieKeys = [randomBytes(32).toString('base64url')];
    generated.push('COOKIE_KEYS');
  }
  let jwks = config.jwks;
  if (!jwks) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    jwks = { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
    generated.push('JWKS');
  }
  return { cookieKeys, jwks, generated };
}
