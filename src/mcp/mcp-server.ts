import {
  McpServer, SUPPORTED_PROTOCOL_VERSIONS, type AuthInfo, type CallToolResult, type CacheHint,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { StorageUnavailable } from '../../adapters/errors.js';
import type { NotesStore } from '../../adapters/stores.js';
import type { Logger } from '../log.js';
import { toolError, type Tool } from '../tools/tool.js';
import { PACKAGE_NAME, VERSION } from '../version.js';
import { callerOf } from './caller.js';
import { missingScopes } from './scope-check.js';

const SERVER_INFO = { name: PACKAGE_NAME, title: 'Notes', version: VERSION };

const INSTRUCTIONS = 'Keeps short text notes for the signed-in user: notes_add saves one, notes_list shows them with their ids, '
  + 'notes_delete removes one by id; whoami tells who is signed in and what this app may do.';

/**
 * How long a 2026-07-28 host may keep the tool list and the discovery answer. Both are the same for every
 * caller (which tools a token may use is decided per call, with a 403 the host can step up from), so shared
 * caches may hold them too; five minutes bounds how long a new deployment's tools take to show.
 */
const LIST_CACHE: CacheHint = { ttlMs: 5 * 60_000, cacheScope: 'public' };

/** Told the outcome of every tool call (for metrics): ran, ran and reported an error, or refused for scope. */
export type ToolCallRecorder = (tool: string, outcome: 'ok' | 'tool_error' | 'denied') => void;

/** The stateless MCP revision that modern-http.ts serves (the SDK does not export its list of such revisions). */
export const MODERN_REVISION = '2026-07-28';

/**
 * Builds one McpServer serving the tools; both protocol eras are served by servers from the same factory. A
 * 'modern' server also lists MODERN_REVISION among its supported versions, as the SDK's HTTP entry would add it:
 * it then answers server/discover from the start, and binds to the revision whenever it is connected to a
 * PerRequestHTTPServerTransport for it (modern-http.ts serves some requests that way, without the entry).
 */
export type McpServerFactory = (era?: 'legacy' | 'modern') => McpServer;

/**
 * Whether the tool declares `x-mcp-header` parameters (arguments a 2026-07-28 request repeats in `Mcp-Param-*`
 * headers). The SDK's HTTP entry checks those headers before a call runs; modern-http.ts's direct lane does not,
 * so it is off whenever a tool declares any. Read from the JSON Schema tools/list shows, anywhere in it.
 */
export const declaresParamHeaders = (tool: Tool): boolean =>
  JSON.stringify(z.toJSONSchema(tool.inputSchema, { io: 'input' })).includes('"x-mcp-header"');

/**
 * The factory of McpServers serving `tools` to the caller of the current request. Handlers read the caller
 * from the request's AuthInfo rather than from a closure: one server serves many callers, one after another
 * (2026-07-28) or at once (the 2025 revisions, see legacy-http.ts).
 */
export function mcpServerFactory(tools: readonly Tool[], notes: NotesStore, log: Logger, record: ToolCallRecorder = () => {}): McpServerFactory {
  const run = async (tool: Tool, input: Record<string, unknown>, authInfo: AuthInfo | undefined): Promise<CallToolResult> => {
    const caller = callerOf(authInfo);
    if (!caller) {
      log.error({ tool: tool.name }, 'tool called without a validated caller');
      return toolError('This server could not tell who is calling; the tool did not run.');
    }
    // The endpoint refuses such calls with a 403 already; this keeps a tool safe however it is reached.
    const missing = missingScopes(caller.scopes, tool.scopes);
    if (missing.length) return toolError(`This tool needs the scope ${missing.join(' ')}, which was not granted.`);
    try {
      return await tool.handler(input, { caller, notes });
    } catch (err) {
      // The SDK would put any error's message in the result: say only what the user can act on.
      if (err instanceof StorageUnavailable) return toolError(err.error_description ?? 'Storage is unavailable; try again shortly.');
      log.error({ err, tool: tool.name }, 'tool failed');
      return toolError('The tool failed because of a problem on the server.');
    }
  };

  return function createMcpServer(era = 'legacy') {
    const server = new McpServer(SERVER_INFO, {
      instructions: INSTRUCTIONS,
      cacheHints: { 'tools/list': LIST_CACHE, 'server/discover': LIST_CACHE },
      // In the order the entry leaves it, so both serving ways leave a pooled server in the same state.
      ...(era === 'modern' && { supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, MODERN_REVISION] }),
    });
    for (const tool of tools) {
      const { name, title, description, inputSchema, annotations } = tool;
      server.registerTool(name, { title, description, inputSchema, annotations }, async (input, ctx) => {
        const result = await run(tool, input, ctx.http?.authInfo);
        record(name, result.isError ? 'tool_error' : 'ok');
        return result;
      });
    }
    return server;
  };
}
