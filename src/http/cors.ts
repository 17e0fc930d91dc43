import type { Middleware } from 'koa';

export interface CorsOptions {
  methods: readonly string[];
  /** Request headers a browser may send. */
  allowHeaders?: readonly string[];
  /** Response headers a browser script may read. */
  exposeHeaders?: readonly string[];
}

/**
 * CORS for browser-based hosts (MCP Inspector, web clients), a step of the routes that grant it (src/routes.ts), whose
 * paths are matched exactly. No credentials are involved (tokens travel in the Authorization header, never in
 * cookies), so any origin may call; a preflight is answered here and ends.
 */
export function cors({ methods, allowHeaders = ['authorization', 'content-type'], exposeHeaders = [] }: CorsOptions): Middleware {
  const allowMethods = [...methods, 'OPTIONS'].join(', ');
  return async function cors(ctx, next) {
    if (!ctx.get('origin')) return next();
    ctx.vary('Origin');
    ctx.set('Access-Control-Allow-Origin', '*');
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.set('Access-Control-Allow-Methods', allowMethods);
      ctx.set('Access-Control-Allow-Headers', allowHeaders.join(', '));
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    if (exposeHeaders.length) ctx.set('Access-Control-Expose-Headers', exposeHeaders.join(', '));
    await next();
  };
}
