import type { Context, Middleware } from 'koa';
import type { Stores } from '../../adapters/stores.js';
import { VERSION } from '../version.js';
import type { Metrics } from './metrics.js';

const READY_TIMEOUT_MS = 1_000;

/** /healthz's answer, from the moment the process listens: up, and which release it runs. */
export const LIVE = { status: 'ok', version: VERSION } as const;

/**
 * /healthz: the process answers (liveness). /readyz: it can serve, i.e. storage answers within a second
 * (readiness; a load balancer takes the instance out while Redis is away). /metrics: Prometheus, for those
 * `mayReadMetrics` lets in; to anyone else it is the 404 of a path that does not exist, so it reveals nothing.
 */
export function opsEndpoints(stores: Stores, metrics: Metrics, mayReadMetrics: (ctx: Context) => boolean): Record<'healthz' | 'readyz' | 'metrics', Middleware> {
  const healthz: Middleware = (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = LIVE;
  };
  const readyz: Middleware = async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const timeout = new Promise<false>((resolve) => setTimeout(resolve, READY_TIMEOUT_MS, false).unref());
    const ready = await Promise.race([stores.ping().catch(() => false), timeout]);
    ctx.status = ready ? 200 : 503;
    ctx.body = ready ? { status: 'ready' } : { status: 'unavailable', error: 'storage does not answer' };
  };
  const prometheus: Middleware = async (ctx) => {
    if (!mayReadMetrics(ctx)) return;
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
  return { healthz, readyz, metrics: prometheus };
}
