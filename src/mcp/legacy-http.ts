import {
  isInitializeRequest, parseJSONRPCMessage, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type McpServer,
} from '@modelcontextprotocol/server';
import { jsonAnswer, type McpAnswer } from './answer.js';
import { JSON_RPC, jsonRpcError } from './json-rpc.js';
import { ANSWER_TIMEOUT_MS, MultiplexingTransport } from './multiplexing-transport.js';
import type { McpPostHandler, McpRequest } from './streamable-http.js';

/** The most messages one batch may hold, as the SDK's Streamable HTTP transports have it. */
const MAX_BATCH_SIZE = 100;

/**
 * The 2025 revisions (2025-11-25, 2025-06-18, 2025-03-26, with or without `initialize`) over stateless Streamable
 * HTTP in JSON mode, served by `server` for every request: no session ids, so any instance sharing the storage
 * can answer any request without sticky routing. The SDK's stateless pattern (a new server and transport per
 * request) costs several times the throughput, so the server is built once and a MultiplexingTransport shares it
 * among the requests in flight. The checks the SDK's transport makes on a POST are made here, in its order, with
 * its status codes, JSON-RPC codes and messages, but without an `id`, as our other refusals at the HTTP edge and
 * the MCP transport spec have it.
 *
 * The server holds nothing that needs closing when the app stops (no sockets, no streams, no intervals; the
 * transport's timers are per request and unref'd), so nothing here hooks into shutdown.
 */
export function legacyHttp(server: McpServer, timeoutMs = ANSWER_TIMEOUT_MS): McpPostHandler {
  const transport = new MultiplexingTransport(timeoutMs);
  // Awaited by every request rather than here, so that building the routes stays synchronous.
  const connected = server.connect(transport);

  return async function serveLegacy(request, body, authInfo) {
    await connected;
    const messages = acceptedMessages(request, body);
    if (!Array.isArray(messages)) return messages;
    const answers = await transport.dispatch(messages, { authInfo });
    // One request, one object: a batch holding a single request (and notifications) is answered so too.
    if (answers.length) return jsonAnswer(200, answers.length === 1 ? answers[0] : answers);
    // 202 for notifications and responses.
    return { status: 202, headers: { 'cache-control': 'no-store' }, body: null };
  };
}

/**
 * The body's JSON-RPC messages, or the refusal. Content-Type (415) is not checked again:
 * readMessages refused anything but application/json before the body was parsed.
 */
function acceptedMessages(request: McpRequest, body: unknown): JSONRPCMessage[] | McpAnswer {
  // Accept is a list: a substring test is what the SDK does, and what the spec's "MUST include" asks.
  const accept = request.headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return jsonRpcError(406, JSON_RPC.SERVER_ERROR, 'Not Acceptable: Client must accept both application/json and text/event-stream');
  }
  if (Array.isArray(body) && body.length > MAX_BATCH_SIZE) {
    return jsonRpcError(400, JSON_RPC.INVALID_REQUEST, `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`);
  }
  const messages: JSONRPCMessage[] = [];
  try {
    for (const item of Array.isArray(body) ? body : [body]) messages.push(parseJSONRPCMessage(item));
  } catch {
    return jsonRpcError(400, JSON_RPC.PARSE_ERROR, 'Parse error: Invalid JSON-RPC message');
  }
  // The method test first: the SDK's schema check costs more than the rest of this function when it fails.
  if (messages.some((message) => 'method' in message && message.method === 'initialize' && isInitializeRequest(message))) {
    // Initialize negotiates the version in its body, so the header is not checked for it.
    if (messages.length > 1) {
      return jsonRpcError(400, JSON_RPC.INVALID_REQUEST, 'Invalid Request: Only one initialization request is allowed');
    }
  } else {
    // Absent: the default version is assumed. Present (even empty), it must be one we support.
    const version = request.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return jsonRpcError(400, JSON_RPC.SERVER_ERROR,
        `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
    }
  }
  return messages;
}
