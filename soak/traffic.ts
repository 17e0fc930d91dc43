import { GaveUp, sleep } from './client.js';
import type { Tally } from './tally.js';
import { SimulatedUser, type ClientId } from './user.js';

/** What a signed-in user does next, and how often (weights). */
const MIX = [
  ['add a note', 40],
  ['list notes', 20],
  ['refresh', 20],
  ['sign in again and authorize', 12],
  ['leave (a new user signs up)', 8],
] as const;
type Action = (typeof MIX)[number][0];

/** A user leaves well before the server's 500 notes per user. */
const NOTES_PER_USER = 300;

/** A small seeded generator (mulberry32): the same SOAK_SEED gives the same sequence of choices. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * `users` people using the server at once, each in a loop of its own until stop(): sign up, sign in, authorize,
 * then a mix of actions with a pause (think time) between them. A user who leaves is replaced by a new sign-up, so
 * sign-ups go on throughout. Every user ever created is kept for the final checks.
 */
export class Traffic {
  readonly users: SimulatedUser[] = [];
  private running = true;
  private loops: Promise<void>[] = [];
  private readonly next = random(Number(process.env.SOAK_SEED ?? 1));
  private readonly runId = Date.now().toString(36);

  constructor(private readonly base: string, private readonly tally: Tally, private readonly thinkMs: number) {}

  start(users: number): void {
    this.loops = Array.from({ length: users }, () => this.loop());
  }

  /** Lets every user finish what it is doing (retries included), then resolves. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private pick(): Action {
    let roll = this.next() * MIX.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [action, weight] of MIX) {
      roll -= weight;
      if (roll < 0) return action;
    }
    return MIX[0][0];
  }

  /** Half the chains rotate their refresh token on every refresh, half never do (see ClientId). */
  private clientFor(user: SimulatedUser): ClientId {
    return (this.users.indexOf(user) + user.chains.length) % 2 === 0 ? 'mcp-cli' : 'client1';
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const user = new SimulatedUser(`soak${this.runId}u${this.users.length + 1}`, this.base, this.tally);
      this.users.push(user);
      await this.attempt(async () => {
        await user.signUp();
        await user.signIn();
        await user.authorize(this.clientFor(user));
      });
      while (this.running && user.signedUp) {
        await sleep(this.next() * 2 * this.thinkMs);
        const action = this.pick();
        if (action === 'leave (a new user signs up)' || user.notes.size >= NOTES_PER_USER) break;
        await this.attempt(() => this.act(user, action));
      }
    }
  }

  private async act(user: SimulatedUser, action: Action): Promise<void> {
    const chain = user.latest;
    if (!chain || chain.dead || action === 'sign in again and authorize') {
      await user.signIn();
      return user.authorize(this.clientFor(user));
    }
    if (action === 'add a note') return user.addNote();
    if (action === 'refresh') return user.refresh(chain);
    const listed = await user.listNotes();
    const missing = listed && user.missing(listed);
    if (missing?.length) this.tally.problem('mcp:notes_list', `${user.username}: acknowledged notes not listed: ${missing.join(', ')}`);
  }

  /** Runs one action; one that failed is already in the tally, and the user goes on with the next. */
  private async attempt(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (err) {
      if (!(err instanceof GaveUp)) throw err;
    }
  }
}
