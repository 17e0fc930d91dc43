import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { serving, type Logger } from '../log.js';
import { routeOf, type Metrics } from './metrics.js';

/** An incoming X-Request-Id is kept (a proxy's id ties its logs to ours) only when it is short and plain. */
const PLAIN_ID = /^[\w.:-]{1,128}$/;

/**
 * The outermost step: gives every request an id (echoed in X-Request-Id and on every line logged while serving
 * it), then logs one JSON line and counts it once it is answered. The line names the route template, never the
 * query string or the body, where codes, tokens and passwords travel.
 */
export function observe(log: Logger, metrics: Metrics): Middleware {
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
  return (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = PLAIN_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', requestId);
    return serving(requestId, async () => {
      const started = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = routeOf(ctx.path);
        counter(route, ctx.method, String(ctx.status)).inc();
        timer(route, ctx.method).observe(seconds);
        // Every 503 here is storage being unreachable (StorageUnavailable), whichever layer answered it.
        if (ctx.status === 503) metrics.storageErrors.inc();
        log.info({ method: ctx.method, route, status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
      }
    });
  };
}
