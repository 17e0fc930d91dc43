import type { Verdict } from './checks.js';
import type { FaultRecord } from './faults.js';
import type { Sample } from './memory.js';
import type { GatewayFailure } from './proxy.js';
import { DISRUPTIONS, type Outcome, type Tally } from './tally.js';

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const mb = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(1)} MB`);

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows].map((row) => row.map(String));
  const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`;
  return [line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

const ORDER = (a: Outcome, b: Outcome) => String(a).localeCompare(String(b), 'en', { numeric: true });

export function answersTable(tally: Tally): string {
  const byOp = tally.byOperation();
  const outcomes = [...new Set([...byOp.values()].flatMap((row) => [...row.keys()]))].sort(ORDER);
  const rows = [...byOp].sort(([a], [b]) => a.localeCompare(b)).map(([op, row]) => [op, ...outcomes.map((o) => row.get(o) ?? 0)]);
  rows.push(['all', ...outcomes.map((o) => tally.count(o))]);
  return table(['operation', ...outcomes.map(String)], rows);
}

/**
 * Per fault: when the broken part was back, when every instance was ready (/readyz), when it served a 2xx through the
 * proxy again (the restarted instance; for Redis, any), and what clients saw: the first and last disruption (502,
 * 503, a cut answer, a tool result "storage unavailable") from its start until the next fault. A client told
 * Retry-After: 2 comes back 2 s later, so the last error of an outage says when clients stopped hitting it, not more.
 */
export function faultsTable(records: FaultRecord[], tally: Tally, trafficEnd: number): string {
  const rows = records.map((fault, i) => {
    const until = records[i + 1]?.startedAt ?? trafficEnd;
    const seen = tally.answers.filter((a) => a.at >= fault.startedAt && a.at < until && DISRUPTIONS.includes(a.outcome));
    const since = (at: number | undefined) => (at === undefined ? undefined : at - fault.startedAt);
    const count = (outcome: Outcome) => seen.filter((a) => a.outcome === outcome).length;
    const servedAgain = tally.answers.find((a) => a.at >= fault.backAt && typeof a.outcome === 'number' && a.outcome < 300
      && (!fault.instance || a.upstream === fault.instance));
    return [
      fault.name, seconds(fault.startedAt), seconds(fault.backAt - fault.startedAt), seconds(fault.readyAt - fault.startedAt),
      seconds(since(servedAgain?.at)), seconds(since(seen[0]?.at)), seconds(since(seen.at(-1)?.at)),
      count(502), count('cut-body'), count(503), count('storage-away'),
    ];
  });
  return table(['fault', 'at', 'back after', 'all ready after', 'serves again after', 'first error', 'last error', '502', 'cut mid-answer', '503', 'tool: storage away'], rows);
}

/** RSS per instance incarnation and Redis used_memory at the start and at the end of each minute, with the change. */
export function memoryTable(first: Sample | undefined, perMinute: Sample[]): string {
  const rows: string[][] = [];
  let previous = first;
  for (const sample of [...(first ? [first] : []), ...perMinute]) {
    const change = (now: number | undefined, before: number | undefined) =>
      (now === undefined || before === undefined || sample === previous ? '' : ` (${now >= before ? '+' : ''}${((now - before) / 2 ** 20).toFixed(1)})`);
    rows.push([
      seconds(sample.at),
      ...sample.rss.map((r, i) => {
        const before = previous?.rss[i];
        return `${r.label} ${mb(r.bytes)}${before?.label === r.label ? change(r.bytes, before.bytes) : ''}`;
      }),
      `${mb(sample.redis)}${change(sample.redis, previous?.redis)}`,
    ]);
    previous = sample;
  }
  const instances = first?.rss.map((r) => `RSS ${r.label.split('#')[0]} (Δ MB)`) ?? [];
  return table(['at', ...instances, 'Redis used_memory (Δ MB)'], rows);
}

export function checksTable(v: Verdict): string {
  return table(['check', 'checked', 'failed', 'note'], [
    ['acknowledged writes (notes) listed', `${v.writesChecked} of ${v.writesAcknowledged}`, v.writesLost, `${v.writesExtra} extra (retried after a lost answer)`],
    ['latest access token of each chain works at /mcp', v.accessTokensChecked, v.accessTokensDead, ''],
    ['refresh chains: one more refresh', v.chainsChecked, v.chainsDead, `${v.rotations} rotations during the run`],
    ['users sign in', v.signInsChecked, v.signInsFailed, `${v.users} users`],
  ]);
}

export function explainedList(tally: Tally, gateway: Record<GatewayFailure, number>): string {
  const lines = [...tally.explained].sort(([, a], [, b]) => b - a).map(([kind, n]) => `  ${String(n).padStart(6)}  ${kind}`);
  lines.push(`  proxy 502s: ${gateway.refused} connection refused (never reached an instance), ${gateway.cut} cut after sending (may have been done)`);
  return lines.join('\n');
}

export function problemList(tally: Tally, most = 40): string {
  if (!tally.problems.length) return '  none';
  const shown = tally.problems.slice(0, most).map((p) => `  ${seconds(p.at)}  ${p.op}: ${p.what}`);
  if (tally.problems.length > most) shown.push(`  ... and ${tally.problems.length - most} more`);
  return shown.join('\n');
}
