import type { IncomingHttpHeaders } from 'node:http';
import { createMcpHandler, type McpServer } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import type { McpServerFactory } from './mcp-server.js';
import type { McpPostHandler } from './streamable-http.js';

/**
 * MCP revision 2026-07-28 (stateless: every request carries its version and client capabilities in `_meta`), served
 * by the SDK's own HTTP entry, `createMcpHandler`, in strict modern mode: it owns the protocol — `server/discover`,
 * the header checks (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`), the unsupported-version and capability
 * errors, `resultType`, cache fields and `serverInfo` — so this file only carries the request to it and its answer
 * back. The 2025 revisions never come here (streamable-http.ts routes them to legacy-http.ts).
 *
 * The entry asks its factory for a server per request. Building one (four tools, their schemas) costs about as
 * much as serving the call, so the factory hands out servers from a pool instead: a server goes back to the pool
 * when its exchange closes it, and the entry refuses a server still serving another request, so no two requests
 * ever share one at once.
 */
export function modernHttp(createServer: McpServerFactory, log: Logger): McpPostHandler {
  const idle: McpServer[] = [];
  const handler = createMcpHandler(() => {
    const server = idle.pop() ?? createServer();
    // The entry chains its own close handler in front of this one and puts it back after the exchange.
    server.server.onclose = () => {
      server.server.onclose = undefined;
      idle.push(server);
    };
    return server;
  }, {
    legacy: 'reject',
    // Refusals are answered to the client already; only failures of our own are worth a log line.
    onerror: (err) => {
      if (!/^Rejected inbound request|Unsupported protocol version|Missing required client capabilit/.test(err.message)) {
        log.error({ err }, 'MCP request failed');
      }
    },
  });

  return async function serveModern({ url, headers }, body, authInfo) {
    const request = new Request(url, { method: 'POST', headers: requestHeaders(headers) });
    const response = await handler.fetch(request, { parsedBody: body, authInfo });
    const answerHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => { answerHeaders[name] = value; });
    answerHeaders['cache-control'] = 'no-store';
    // A JSON answer is read whole; a stream (a tool that reports progress before its result) is passed on as it
    // comes.
    const json = response.headers.get('content-type')?.startsWith('application/json');
    return { status: response.status, headers: answerHeaders, body: json ? await response.text() : response.body };
  };
}

/** The request's headers as the fetch API takes them (Node gives repeated ones as arrays, which MCP never needs). */
function requestHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}
