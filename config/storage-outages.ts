/**
 * What clients are told, and allowed, while storage is unreachable: one place, because the numbers depend on each
 * other (README "Retrying after 503").
 */

/** The longest a storage command waits for its answer: past it, the request fails with a 503 at once. */
export const STORAGE_COMMAND_TIMEOUT_MS = 2_000;

/**
 * Retry-After on every 503 of an outage. The Redis client reconnects every 2 s at most (adapters/redis/client.ts), so
 * a client that comes back sooner finds nothing changed, and one told to wait longer waits for nothing.
 */
export const STORAGE_RETRY_AFTER_SECONDS = 2;

/** The retries after a 503 that the refresh token reuse grace leaves room for. */
const RETRIES_WITHIN_GRACE = 2;

/**
 * A rotated refresh token presented again within this many seconds is a duplicate refresh, not a theft: 10 s, the
 * first attempt and two retries each failing at the command timeout, with Retry-After between them. Two refreshes of
 * one token in parallel (two tabs, a host's retry after a lost answer) where one succeeds and the other meets the
 * outage: the other must still succeed when it retries as told, or the host is sent to sign in again.
 *
 * This is a documented, bounded exception to RFC 9700 §4.14.2, which has a rotated refresh token invalid from its
 * first use so that its reuse by an attacker is detected. In the same spirit as FAPI 2.0's allowance (an authorization
 * server may rotate only if retrying with the previous refresh token succeeds when the client never received the new
 * one), reuse is allowed for these seconds only; past them, reuse still revokes the whole grant.
 */
export const REFRESH_REUSE_GRACE_SECONDS = RETRIES_WITHIN_GRACE * STORAGE_RETRY_AFTER_SECONDS
  + (RETRIES_WITHIN_GRACE + 1) * (STORAGE_COMMAND_TIMEOUT_MS / 1000);
