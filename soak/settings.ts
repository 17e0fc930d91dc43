/** What a soak run does, from the environment: how long, how many users at once, how fast each one acts. */
export interface Settings {
  /** Seconds of traffic; the faults are placed at fixed fractions of it (soak/faults.ts). */
  seconds: number;
  /** Simulated users acting at the same time; each one that retires is replaced by a new sign-up. */
  users: number;
  /** Mean pause of a user between two actions, in milliseconds. */
  thinkMs: number;
}

function whole(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`${name}: must be a whole number of at least ${min} (got "${raw}")`);
    process.exit(2);
  }
  return value;
}

export function readSettings(): Settings {
  return {
    seconds: whole('SOAK_SECONDS', 180, 10),
    users: whole('SOAK_USERS', 16, 1),
    thinkMs: whole('SOAK_THINK_MS', 100, 0),
  };
}
