import type { Middleware } from 'koa';
import { serving, type Logger } from '../log.js';
import type { Metrics } from './metrics.js';

/** What is recorded of every request: its id, then once answered one log line and its metrics. */
export interface RequestObserver {
  /** The request's id, from its incoming X-Request-Id ('' when absent): see requestIds. */
  idOf(incoming: string): string;
  /** Logs and counts a request answered `seconds` after it began. */
  answered(method: string, path: string, status: number, seconds: number): void;
}

/** `routeOf`: the route template a path falls under (src/http/route-table.ts), so ids never become labels or log fields. */
export function requestObserver(log: Logger, metrics: Metrics, idOf: RequestObserver['idOf'], routeOf: (path: string) => string): RequestObserver {
  // prom-client resolves a label set on every call: keep the resolved children, one per route/method/status.
  const counters = new Map<string, ReturnType<typeof metrics.requests.labels>>();
  const timers = new Map<string, ReturnType<typeof metrics.latency.labels>>();
  const counter = (route: string, method: string, status: string) => {
    const key = `${route} ${method} ${status}`;
    let child = counters.get(key);
    if (!child) counters.set(key, (child = metrics.requests.labels({ route, method, status })));
    return child;
  };
  const timer = (route: string, method: string) => {
    const key = `${route} ${method}`;
    let child = timers.get(key);
    if (!child) timers.set(key, (child = metrics.latency.labels({ route, method })));
    return child;
  };
  return {
    idOf,
    answered(method, path, status, seconds) {
      const route = routeOf(path);
      counter(route, method, String(status)).inc();
      timer(route, method).observe(seconds);
      // Every 503 here is storage being unreachable (StorageUnavailable), whichever layer answered it.
      if (status === 503) metrics.storageErrors.inc();
      log.info({ method, route, status, ms: Math.round(seconds * 1000) }, 'request');
    },
  };
}

/** Seconds since `started` (process.hrtime.bigint()). */
export const secondsSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

/**
 * The outermost step: gives every request an id (echoed in X-Request-Id and on every line logged while serving
 * it), then logs one JSON line and counts it once it is answered. The line names the route template, never the
 * query string or the body, where codes, tokens and passwords travel.
 */
export function observe(observer: RequestObserver): Middleware {
  return (ctx, next) => {
    const requestId = observer.idOf(ctx.get('x-request-id'));
    ctx.set('X-Request-Id', requestId);
    return serving(requestId, async () => {
      const started = process.hrtime.bigint();
      try {
        await next();
      } finally {
        observer.answered(ctx.method, ctx.path, ctx.status, secondsSince(started));
      }
    });
  };
}
