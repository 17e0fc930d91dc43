import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';

/**
 * The baseline for MCP revision 2026-07-28: the SDK v2's own HTTP entry, `createMcpHandler` (a server from the
 * factory for every request, both eras), mounted on node:http with the SDK's Node adapter as its documentation
 * shows, serving the same whoami tool, with no authentication at all, on PORT.
 */
const handler = toNodeHandler(createMcpHandler(() => {
  const server = new McpServer({ name: 'baseline', version: '1.0.0' });
  server.registerTool('whoami', { title: 'Who am I', description: 'Who is signed in' }, async () => ({
    content: [{ type: 'text', text: JSON.stringify({ id: 'bench-user', username: 'bench', client_id: 'bench', scopes: [] }) }],
  }));
  return server;
}));

const http = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200).end('ok');
    return;
  }
  void handler(req, res);
});

http.listen(Number(process.env.PORT), '127.0.0.1');
