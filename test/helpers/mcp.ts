import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/server';
import { expect } from 'chai';
import { authorizeCode, exchangeCode, form, loggedInBrowser, type Tokens } from './seed.js';

/** MCP over plain fetch, as any host speaks it: JSON-RPC in POST bodies to /mcp with a bearer token. */

export const MCP_SCOPES = 'notes:read notes:write';

/** A token for the MCP endpoint through first-party client1 (no consent page); no `scope`: both MCP scopes. */
export async function mcpToken(base: string, scope?: string) {
  const { browser, user } = await loggedInBrowser(base);
  const { code } = await authorizeCode(browser, { resource: `${base}/mcp`, ...(scope ? { scope } : {}) });
  const res = await exchangeCode(base, code);
  expect(res.status).to.equal(200);
  const tokens = await res.json() as Tokens;
  return { browser, user, tokens, token: tokens.access_token };
}

export function revoke(base: string, token: string) {
  return fetch(`${base}/oauth/revoke`, form({ token, client_id: 'client1', client_secret: 'secret1' }));
}

/** The headers an MCP host sends with each POST. */
export function mcpHeaders(token?: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  };
}

/** POSTs one JSON-RPC message (or a batch, or any text) to /mcp. */
export function mcpPost(base: string, token: string | undefined, message: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers: mcpHeaders(token, headers),
    body: typeof message === 'string' ? message : JSON.stringify(message),
  });
}

let nextId = 0;
export const request = (method: string, params?: Record<string, unknown>) =>
  ({ jsonrpc: '2.0', id: ++nextId, method, ...(params ? { params } : {}) });

export const toolCall = (name: string, args: Record<string, unknown> = {}) => request('tools/call', { name, arguments: args });

export const initialize = () => request('initialize', {
  protocolVersion: LATEST_PROTOCOL_VERSION,
  capabilities: {},
  clientInfo: { name: 'mcp-tests', version: '1.0.0' },
});

export interface ToolResult {
  content: { type: string; text: string }[];
  structuredContent?: Record<string, any>;
  isError?: boolean;
}

/** Sends one request and returns its JSON-RPC result, after checking the transport answered 200 with it. */
export async function rpc(base: string, token: string, message: ReturnType<typeof request>): Promise<any> {
  const res = await mcpPost(base, token, message);
  const text = await res.text();
  expect(res.status, text).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  const body = JSON.parse(text);
  expect(body, text).to.include({ jsonrpc: '2.0', id: message.id });
  expect(body.error, text).to.equal(undefined);
  return body.result;
}

/** Sends one request the server answers with a JSON-RPC error (in a 200, as the SDK answers them); returns the error. */
export async function rpcError(base: string, token: string, message: ReturnType<typeof request>): Promise<{ code: number; message: string }> {
  const res = await mcpPost(base, token, message);
  const text = await res.text();
  expect(res.status, text).to.equal(200);
  const body = JSON.parse(text);
  expect(body, text).to.include({ jsonrpc: '2.0', id: message.id });
  expect(body.result, text).to.equal(undefined);
  return body.error;
}

export const callTool = (base: string, token: string, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> =>
  rpc(base, token, toolCall(name, args));

/** /mcp takes the token: whoami answers for the client it was issued to, on both protocol eras. */
export async function expectMcpAccepts(base: string, token: string, clientId: string): Promise<void> {
  for (const res of [await mcpPost(base, token, toolCall('whoami')), await modernPost(base, token, modernToolCall('whoami'))]) {
    const text = await res.text();
    expect(res.status, text).to.equal(200);
    expect(JSON.parse(text).result?.structuredContent?.client_id, text).to.equal(clientId);
  }
}

/** The texts of the notes in a notes_list result, oldest first. */
export const noteTexts = (result: ToolResult): string[] | undefined =>
  result.structuredContent?.notes.map((note: { text: string }) => note.text);

/** A tool result the tool itself reports as failed: isError, with readable text matching `pattern`. */
export function expectToolError(result: ToolResult, pattern: RegExp): void {
  expect(result.isError, JSON.stringify(result)).to.equal(true);
  expect(result.content[0]?.type).to.equal('text');
  expect(result.content[0]?.text).to.match(pattern);
}

/** A JSON-RPC error answered at the HTTP edge: the status, JSON, the code, and no id (refused before any message). */
export async function expectJsonRpcError(res: Response, status: number, code: number): Promise<string> {
  const text = await res.text();
  expect(res.status, text).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  const body = JSON.parse(text);
  expect(body).to.have.all.keys('jsonrpc', 'error');
  expect(body.jsonrpc).to.equal('2.0');
  expect(body.error.code).to.equal(code);
  expect(body.error.message).to.be.a('string').and.not.be.empty;
  return body.error.message;
}

/** MCP revision 2026-07-28: stateless, every request names its version and the client's capabilities in `_meta`. */
export const MODERN_VERSION = '2026-07-28';

export const modernRequest = (method: string, params: Record<string, unknown> = {}) => request(method, {
  ...params,
  _meta: {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'mcp-tests', version: '1.0.0' },
  },
});

export const modernToolCall = (name: string, args: Record<string, unknown> = {}) => modernRequest('tools/call', { name, arguments: args });

/** POSTs a 2026-07-28 message with the headers that revision requires (`Mcp-Method`, `Mcp-Name`), unless overridden. */
export function modernPost(base: string, token: string | undefined, message: ReturnType<typeof request>, headers: Record<string, string> = {}) {
  const params = (message as { params?: { name?: unknown } }).params;
  return mcpPost(base, token, message, {
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': message.method,
    ...(typeof params?.name === 'string' ? { 'mcp-name': params.name } : {}),
    ...headers,
  });
}

/** The JSON-RPC answer of a 2026-07-28 request, after checking its HTTP status and that it is JSON for this request. */
export async function modernAnswer(res: Response, status = 200): Promise<{ id: unknown; result?: any; error?: { code: number; message: string; data?: any } }> {
  const text = await res.text();
  expect(res.status, text).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  const body = JSON.parse(text);
  expect(body.jsonrpc).to.equal('2.0');
  return body;
}
