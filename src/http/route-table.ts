import { METHODS } from 'node:http';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** OPTIONS where a CORS step answers preflights; `any`: the route answers every method itself. */
export type Method = 'GET' | 'POST' | 'DELETE' | 'OPTIONS';

/** A step of a request: a Koa middleware, named (its function name) so that the table can be printed. */
export type Step = Middleware;

/** `step`, under the name the table prints for it. */
export const named = <T extends Middleware>(name: string, step: T): T => Object.defineProperty(step, 'name', { value: name });

/** One of our own routes: the request goes through `steps` in order, and the last answers it. */
export interface Route {
  methods: readonly Method[] | 'any';
  /** A path with `:name` segments. Matched without regard to case, and without a trailing slash. */
  path: string;
  steps: readonly Step[];
  /** Matched exactly, case included: a resource's URL is exactly what it says (RFC 8707, RFC 9728). */
  exact?: boolean;
  /** To callers its steps refuse, it is a path that does not exist: no 405 for another method either. */
  unlisted?: boolean;
}

/**
 * Run once the provider has answered a request it routed to one of its endpoints. The provider's router matches
 * paths its own way (any case, Unicode case folding, a trailing slash), so what must hold for every request an
 * endpoint serves is keyed on the route the provider chose (ctx.oidc.route), never on the path.
 */
export type AfterStep = (ctx: KoaContextWithOIDC) => void | Promise<void>;

/** One of oidc-provider's endpoints. */
export interface ProviderEndpoint {
  /** The provider's name for the route: ctx.oidc.route, which its events and our hooks inside it key on. */
  route: string;
  methods: readonly Method[];
  path: string;
  /** Steps before the provider, for this exact path only (they can only add: CORS grants, or answer instead). */
  before?: readonly Step[];
  after?: readonly AfterStep[];
}

export interface RouteTable {
  routes: readonly Route[];
  /** Served by `provider`, the mounted oidc-provider, which also answers every path nothing above matches. */
  provider: { serve: Step; endpoints: readonly ProviderEndpoint[] };
}

/** The Koa middleware of the table: our routes, then the provider. */
export function tableMiddleware(table: RouteTable): Middleware[] {
  const router = new Router();
  for (const route of table.routes) {
    const methods = route.methods === 'any' ? METHODS : [...route.methods];
    router.register(route.path, methods, [...route.steps], { name: route.path, strict: true, sensitive: route.exact ?? false });
  }
  const provide = providerWithAfterSteps(table.provider);
  for (const endpoint of table.provider.endpoints) {
    if (endpoint.before?.length) {
      router.register(endpoint.path, [...endpoint.methods], [...endpoint.before, provide], { name: endpoint.path, strict: true, sensitive: true });
    }
  }
  return [router.routes() as Middleware, provide];
}

function providerWithAfterSteps({ serve, endpoints }: RouteTable['provider']): Middleware {
  const after = new Map<string, readonly AfterStep[]>();
  for (const endpoint of endpoints) if (endpoint.after) after.set(endpoint.route, endpoint.after);
  return async function provider(ctx, next) {
    try {
      await serve(ctx, next);
    } finally {
      const route = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
      for (const step of (route !== undefined && after.get(route)) || []) await step(ctx as KoaContextWithOIDC);
    }
  };
}

interface Pattern {
  template: string;
  /** Undefined: no 405 is derived (the route answers every method itself, or hides). */
  methods?: readonly string[];
  exact: boolean;
}

const regexpOf = ({ template, exact }: Pattern) =>
  new RegExp(`^${template.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : escape(segment))).join('/')}$`, exact ? '' : 'i');

/** As a case-insensitive RegExp compares (without the `u` flag, `\u212A` is no `k`), unlike String#toLowerCase. */
const asciiLowerCase = (text: string) => text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What the table says of a path, looked up on every request: its route template, and the methods served there. */
export interface RouteIndex {
  /**
   * The route template a path falls under, the label of its metrics and log line: a path nobody routes is
   * `unmatched`, so that no id and no word a caller makes up ever becomes a label value.
   */
  templateOf(path: string): string;
  /**
   * The methods the table serves at a path, for the 405 that answers any other; undefined where no 405 is due (nothing
   * is there, or the route answers every method itself). A preflight is not a method a client chooses: not listed.
   */
  methodsAt(path: string): readonly string[] | undefined;
}

export function indexRoutes(table: RouteTable): RouteIndex {
  const all: Pattern[] = [];
  const add = (template: string, methods: readonly string[] | undefined, exact = false) => {
    const same = all.find((pattern) => pattern.template === template);
    if (!same) all.push({ template, methods: methods?.filter((method) => method !== 'OPTIONS'), exact });
    else if (same.methods && methods) same.methods = [...new Set([...same.methods, ...methods])].filter((method) => method !== 'OPTIONS');
  };
  for (const route of table.routes) add(route.path, route.methods === 'any' || route.unlisted ? undefined : route.methods, route.exact);
  // Under a path with an id in it (a pending authorization, a device sign-in, a client), what exists depends on the
  // id, which only the provider knows: another method there is its 404, not a 405 that would claim the id exists.
  for (const endpoint of table.provider.endpoints) add(endpoint.path, endpoint.path.includes('/:') ? undefined : endpoint.methods, true);

  // Most paths are literal: found by a lookup, the few templates with an id by their patterns, in table order (a
  // literal such as /oauth/device/auth comes before the /oauth/device/:uid it would also match).
  const literal = (pattern: Pattern) => !pattern.template.includes('/:');
  const exactPaths = new Map(all.filter((p) => literal(p) && p.exact).map((p) => [p.template, p]));
  const loosePaths = new Map(all.filter((p) => literal(p) && !p.exact).map((p) => [asciiLowerCase(p.template), p]));
  const withIds = all.filter((p) => !literal(p)).map((pattern) => ({ pattern, regexp: regexpOf(pattern) }));
  const find = (path: string) => exactPaths.get(path) ?? loosePaths.get(asciiLowerCase(path))
    ?? withIds.find(({ regexp }) => regexp.test(path))?.pattern;

  return {
    templateOf: (path) => find(path)?.template ?? 'unmatched',
    methodsAt: (path) => find(path)?.methods,
  };
}

/** The table in words, one line per route: `npm run routes`. */
export function describeTable(table: RouteTable): string[] {
  const names = (steps: readonly { name: string }[]) => steps.map((step) => step.name || '(unnamed)');
  return [
    ...table.routes.map((route) => `${[route.methods].flat().join(',').padEnd(12)} ${route.path.padEnd(44)} ${names(route.steps).join(' → ')}`),
    ...table.provider.endpoints.map((endpoint) => `${endpoint.methods.join(',').padEnd(12)} ${endpoint.path.padEnd(44)} ${
      [...names(endpoint.before ?? []), `provider (${endpoint.route})`, ...names(endpoint.after ?? [])].join(' → ')}`),
  ];
}
