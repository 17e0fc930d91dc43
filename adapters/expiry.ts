/**
 * How long storage keeps a record past its `expiresIn`: a second of slack, so that an instance whose clock
 * runs slightly behind still finds a record it considers live. The provider checks `exp` itself.
 */
export const EXPIRY_SLACK_MS = 1_000;

/** Milliseconds to keep a record, or undefined for no expiry. */
export function retentionMs(expiresIn: number | undefined): number | undefined {
  return expiresIn ? expiresIn * 1000 + EXPIRY_SLACK_MS : undefined;
}
