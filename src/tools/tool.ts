import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import type { NotesStore } from '../../adapters/stores.js';
import type { McpScope } from '../../config/scopes.js';

/*
 * What an MCP tool is, apart from any transport or authorization mechanics: replace or add tools in this
 * folder without touching src/mcp/. The endpoint checks `scopes` before the handler runs, and hands the
 * handler who is calling and the stores it may use.
 */

/** The signed-in user and the app acting for them, from a validated access token. */
export interface Caller {
  accountId: string;
  username: string;
  clientId: string;
  /** The app's own name (its registration's or metadata document's client_name), else its client id. */
  clientName: string;
  scopes: readonly string[];
}

export interface ToolContext {
  caller: Caller;
  notes: NotesStore;
}

export interface Tool<Input extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  /** What the model reads to decide when to call the tool. */
  description: string;
  /**
   * A property may declare `x-mcp-header` (zod `.meta()`), for 2026-07-28 hosts to repeat it in an `Mcp-Param-*`
   * header: then every 2026-07-28 request goes through the SDK's HTTP entry, which checks those headers, instead
   * of /mcp's faster direct lane, which does not (src/mcp/modern-http.ts switches it off at start).
   */
  inputSchema: Input;
  /** Every one of these must have been granted to the caller's token; none: any token for the MCP server. */
  scopes: readonly McpScope[];
  annotations?: ToolAnnotations;
  // Method syntax on purpose: a Tool of a specific input is then usable wherever any Tool is expected.
  handler(input: z.infer<Input>, context: ToolContext): Promise<CallToolResult>;
}

/** Declares a tool, typing its handler's input from its schema. */
export const defineTool = <Input extends z.ZodObject>(tool: Tool<Input>): Tool<Input> => tool;

/** A successful result: readable text for the model and the user, and the same data as JSON where it helps. */
export function toolResult(text: string, structuredContent?: Record<string, unknown>): CallToolResult {
  return structuredContent ? { content: [{ type: 'text', text }], structuredContent } : { content: [{ type: 'text', text }] };
}

/** A failure the model should read and act on; a result with isError, not a protocol error (MCP tools spec). */
export function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
