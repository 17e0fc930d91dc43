import type { Context } from 'koa';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Tool } from '../tools/tool.js';
import type { BearerChallenges } from './challenge.js';
import { calledTools } from './messages.js';

/** The scopes in `required` that `granted` lacks. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !granted.includes(scope));
}

/** The calls of a body the token's scopes do not cover: each tool's name and the scopes it lacks. */
export type ScopeDenials = (auth: AuthInfo, body: unknown) => { name: string; missing: string[] }[];

/** Finds the calls to `tools` the token may not make. Unknown tools pass: the SDK answers them with its own error. */
export function scopeDenials(tools: readonly Tool[]): ScopeDenials {
  const scopesOf = new Map(tools.map((tool) => [tool.name, tool.scopes]));
  return (auth, body) => calledTools(body)
    .map((name) => ({ name, missing: missingScopes(auth.scopes, scopesOf.get(name) ?? []) }))
    .filter(({ missing }) => missing.length);
}

/**
 * Checks the token's scopes against every tool the request calls, before anything runs: a call the token does
 * not cover is an HTTP 403 insufficient_scope whose challenge names the scopes to ask for (those granted plus
 * those missing), so the host can step up and retry (MCP authorization spec). `onDenied` hears each refused
 * call; only our own tools can be refused.
 */
export function scopeCheck(denials: ScopeDenials, challenges: BearerChallenges, onDenied: (tool: string) => void) {
  return function requireScopes(ctx: Context, auth: AuthInfo, body: unknown): void {
    const denied = denials(auth, body);
    if (!denied.length) return;
    for (const { name } of denied) onDenied(name);
    const needed = denied.flatMap(({ missing }) => missing);
    const scope = [...new Set([...auth.scopes, ...needed])].join(' ');
    throw challenges.insufficientScope(ctx, scope, `this call needs the scope ${[...new Set(needed)].join(' ')}, which the access token was not granted`);
  };
}
