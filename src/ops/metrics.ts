import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * What operators watch, in Prometheus' text format at /metrics. Labels are bounded: routes are templates
 * (never raw paths with ids in them), outcomes and grant types are small fixed sets.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'http_requests_total', help: 'HTTP requests by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const, registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'http_request_duration_seconds', help: 'HTTP request latency by route template and method',
    labelNames: ['route', 'method'] as const, registers: [this.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });

  readonly logins = new Counter({
    name: 'logins_total', help: 'Password logins by outcome (succeeded, failed, disabled: the right password of a disabled account)',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: 'tokens_issued_total', help: 'Token endpoint successes by grant type',
    labelNames: ['grant_type'] as const, registers: [this.registry],
  });

  readonly toolCalls = new Counter({
    name: 'mcp_tool_calls_total', help: 'MCP tool calls by tool and outcome (ok, tool_error, denied)',
    labelNames: ['tool', 'outcome'] as const, registers: [this.registry],
  });

  readonly refusals = new Counter({
    name: 'abuse_limit_refusals_total', help: 'Requests refused (429) by a brute-force or abuse limit, by limit',
    labelNames: ['limit'] as const, registers: [this.registry],
  });

  readonly storageErrors = new Counter({
    name: 'storage_errors_total', help: 'Requests that failed because storage (Redis) was unreachable',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

const EXACT_ROUTES = new Set([
  '/oauth/register', '/oauth/login', '/oauth/authorize', '/oauth/token', '/oauth/userinfo', '/oauth/jwks',
  '/oauth/revoke', '/oauth/introspect', '/oauth/logout', '/oauth/logout/confirm', '/oauth/logout/success',
  '/oauth/par', '/oauth/clients', '/oauth/device', '/oauth/device/auth', '/callback', '/mcp', '/account',
  '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp',
  '/healthz', '/readyz', '/metrics', '/', '/signup',
]);

const TEMPLATES: [RegExp, string][] = [
  [/^\/interaction\/[^/]+$/, '/interaction/:uid'],
  // Only the actions that exist: any other word there is a caller's choice, and every label value is a series kept
  // in memory and sent on every scrape.
  [/^\/interaction\/[^/]+\/(consent|deny|login|register|abort)$/, '/interaction/:uid/$1'],
  [/^\/oauth\/authorize\/[^/]+$/, '/oauth/authorize/:uid'],
  [/^\/oauth\/device\/[^/]+$/, '/oauth/device/:step'],
  [/^\/oauth\/clients\/[^/]+$/, '/oauth/clients/:id'],
  [/^\/account\/.+$/, '/account/*'],
  [/^\/assets\/[\w.-]+$/, '/assets/:file'],
];

/** The route template of a path, so ids never become metric labels or log fields. */
export function routeOf(path: string): string {
  if (EXACT_ROUTES.has(path)) return path;
  for (const [pattern, template] of TEMPLATES) {
    const match = path.match(pattern);
    if (match) return template.replace('$1', match[1] ?? '');
  }
  return 'unmatched';
}
