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
