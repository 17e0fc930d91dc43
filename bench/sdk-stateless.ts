import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/**
 * The baseline: the MCP SDK's documented stateless pattern (a new McpServer and transport for every request),
 * serving the same whoami tool, with no authentication at all, on PORT.
 */
function buildServer(): McpServer {
  const server = new McpServer({ name: 'baseline', version: '1.0.0' });
  server.registerTool('whoami', { title: 'Who am I', description: 'Who is signed in' }, async () => ({
    content: [{ type: 'text', text: JSON.stringify({ id: 'bench-user', username: 'bench', client_id: 'bench', scopes: [] }) }],
  }));
  return server;
}

const http = createServer(async (req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200).end('ok');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/mcp') {
    res.writeHead(405).end();
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const server = buildServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
});

http.listen(Number(process.env.PORT), '127.0.0.1');
