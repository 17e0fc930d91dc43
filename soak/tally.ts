/* What the soak saw: every answer, the events it could explain, and the problems it could not. */

/** An HTTP status, or what came instead of one. */
export type Outcome = number | 'cut-body' | 'timeout' | 'no-proxy' | 'storage-away';

/** Outcomes a client retries: what an instance or storage being away looks like from outside. */
export const DISRUPTIONS: readonly Outcome[] = [502, 503, 'cut-body', 'storage-away'];

export interface Answer {
  /** Milliseconds since the soak began. */
  at: number;
  op: string;
  outcome: Outcome;
  /** The instance that answered (proxy header); undefined when the proxy did not say. */
  upstream: string | undefined;
}

export interface Problem {
  at: number;
  op: string;
  what: string;
}

export class Tally {
  readonly answers: Answer[] = [];
  readonly problems: Problem[] = [];
  /** Events the soak expects from its faults, by kind: how many times each happened. */
  readonly explained = new Map<string, number>();
  private readonly origin = Date.now();

  /** Milliseconds since the soak began. */
  now(): number {
    return Date.now() - this.origin;
  }

  answer(op: string, outcome: Outcome, upstream?: string): void {
    this.answers.push({ at: this.now(), op, outcome, upstream });
  }

  problem(op: string, what: string): void {
    this.problems.push({ at: this.now(), op, what });
  }

  explain(kind: string): void {
    this.explained.set(kind, (this.explained.get(kind) ?? 0) + 1);
  }

  /** How many answers had each outcome, per operation. */
  byOperation(): Map<string, Map<Outcome, number>> {
    const table = new Map<string, Map<Outcome, number>>();
    for (const { op, outcome } of this.answers) {
      const row = table.get(op) ?? new Map<Outcome, number>();
      row.set(outcome, (row.get(outcome) ?? 0) + 1);
      table.set(op, row);
    }
    return table;
  }

  count(outcome: Outcome, from = 0, to = Infinity): number {
    return this.answers.filter((a) => a.outcome === outcome && a.at >= from && a.at < to).length;
  }
}
