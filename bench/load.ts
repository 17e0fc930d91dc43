import autocannon from 'autocannon';
import { cpuMs } from './processes.js';

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  /** The server's own CPU time per answered request: what one core can sustain, whatever else runs here. */
  cpuMsPerRequest: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  seconds?: number;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  overallRate?: number;
  /** The server's process, whose CPU time is measured over the run. */
  pid: number;
}

/** One autocannon run; latencies in milliseconds. A run with errors or non-2xx answers is reported, not hidden. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const cpuBefore = await cpuMs(options.pid);
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    connections: options.connections ?? 16,
    duration: options.seconds ?? 5,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  });
  const cpu = await cpuMs(options.pid) - cpuBefore;
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    cpuMsPerRequest: cpu / Math.max(1, result.requests.total),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
