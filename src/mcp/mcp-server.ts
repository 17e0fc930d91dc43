import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import packageJson from '../../package.json' with { type: 'json' };
import { StorageUnavailable } from '../../adapters/errors.js';
import type { NotesStore } from '../../adapters/stores.js';
import type { Logger } from '../log.js';
import { toolError, type Tool } from '../tools/tool.js';
import { callerOf } from './caller.js';
import { missingScopes } from './scope-check.js';

const SERVER_INFO = { name: packageJson.name, title: 'Notes', version: packageJson.version };

const INSTRUCTIONS = 'Keeps short text notes for the signed-in user: notes_add saves one, notes_list shows them with their ids, '
  + 'notes_delete removes one by id; whoami tells who is signed in and what this app may do.';

/**
 * An McpServer serving `tools` to the caller of the current request. Handlers read the caller from
 * `extra.authInfo` rather than from a closure: the endpoint builds one server and serves every caller with it.
 */
/** Told the outcome of every tool call (for metrics): ran, ran and reported an error, or refused for scope. */
export type ToolCallRecorder = (tool: string, outcome: 'ok' | 'tool_error' | 'denied') => void;

export function createMcpServer(tools: readonly Tool[], notes: NotesStore, log: Logger, record: ToolCallRecorder = () => {}): McpServer {
  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS });
  for (const tool of tools) {
    const { name, title, description, inputSchema, annotations } = tool;
    const run = async (input: Record<string, unknown>, authInfo: Parameters<typeof callerOf>[0]): Promise<CallToolResult> => {
      const caller = callerOf(authInfo);
      if (!caller) {
        log.error({ tool: name }, 'tool called without a validated caller');
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
        log.error({ err, tool: name }, 'tool failed');
        return toolError('The tool failed because of a problem on the server.');
      }
    };
    server.registerTool(name, { title, description, inputSchema, annotations }, async (input, extra) => {
      const result = await run(input, extra.authInfo);
      record(name, result.isError ? 'tool_error' : 'ok');
      return result;
    });
  }
  return server;
}
