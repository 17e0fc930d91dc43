import { GaveUp } from './client.js';
import type { Tally } from './tally.js';
import type { SimulatedUser } from './user.js';

/** Users checked at once: the checks sign in (argon2), which is what the server spends most CPU on. */
const CHECKERS = 4;

export interface Verdict {
  users: number;
  writesAcknowledged: number;
  writesChecked: number;
  writesLost: number;
  /** Notes listed twice as often as acknowledged: a notes_add retried after its answer was lost. */
  writesExtra: number;
  accessTokensChecked: number;
  accessTokensDead: number;
  chainsChecked: number;
  /** Chains that died during the run or failed the final refresh. */
  chainsDead: number;
  rotations: number;
  signInsChecked: number;
  signInsFailed: number;
}

/** The step's result; undefined when it failed (the tally has why). */
async function attempt<T>(step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof GaveUp) return undefined;
    throw err;
  }
}

const succeeds = async (step: () => Promise<void>) => (await attempt(async () => step().then(() => true))) ?? false;

/**
 * Once the faults are over: every acknowledged note is listed, every chain's latest access token works at /mcp, every
 * chain's latest refresh token refreshes once more, and every user can sign in. Failures are counted here and put in
 * the tally with what the server answered.
 */
export async function finalChecks(users: SimulatedUser[], tally: Tally): Promise<Verdict> {
  const verdict: Verdict = {
    users: 0, writesAcknowledged: 0, writesChecked: 0, writesLost: 0, writesExtra: 0, accessTokensChecked: 0,
    accessTokensDead: 0, chainsChecked: 0, chainsDead: 0, rotations: 0, signInsChecked: 0, signInsFailed: 0,
  };
  const check = async (user: SimulatedUser) => {
    verdict.users++;
    verdict.writesAcknowledged += user.notes.size;
    for (const chain of user.chains) {
      verdict.chainsChecked++;
      if (chain.dead) {
        verdict.chainsDead++;
        tally.problem('check:chain', `${user.username}'s ${chain.client} chain died during the run: ${chain.dead}`);
        continue;
      }
      verdict.accessTokensChecked++;
      const listed = await attempt(() => user.listNotes(chain.accessToken, 'check:access-token'));
      if (!listed) verdict.accessTokensDead++;
      else if (chain === user.latest) {
        verdict.writesChecked += user.notes.size;
        const missing = user.missing(listed);
        verdict.writesLost += missing.length;
        verdict.writesExtra += listed.size - (user.notes.size - missing.length);
        if (missing.length) tally.problem('check:notes', `${user.username}: ${missing.length} acknowledged notes not listed: ${missing.join(', ')}`);
      }
      if (!(await succeeds(() => user.refresh(chain, 'check:refresh')))) verdict.chainsDead++;
      verdict.rotations += chain.rotations;
    }
    if (!user.signedUp) return;
    verdict.signInsChecked++;
    if (!(await succeeds(() => user.signIn('check:sign-in')))) verdict.signInsFailed++;
  };
  const queue = [...users];
  await Promise.all(Array.from({ length: CHECKERS }, async () => {
    for (let user = queue.shift(); user; user = queue.shift()) await check(user);
  }));
  return verdict;
}
