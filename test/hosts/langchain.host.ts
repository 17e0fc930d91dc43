import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { expect } from 'chai';
import { freePort } from '../helpers/redis.js';
import { registerUser } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { approve, expectWhoami, MemoryOAuthProvider, recordWire, spokenRevision } from './helpers.js';

/**
 * LangChain's MCP adapters (@langchain/mcp-adapters), as the real npm package: MultiServerMCPClient over Streamable
 * HTTP with an OAuthClientProvider, which it hands to the MCP SDK (v1) client underneath. Once the user has allowed
 * the app, the agent's tools are our tools, and calling one runs as that user.
 */

describe('@langchain/mcp-adapters (npm): MultiServerMCPClient with an OAuth provider, then LangChain tools', function () {
  this.timeout(30_000);
  const server = useTestServer();

  it('getTools → 401 → the user allows → auth() with the code → getTools, whoami invoked as a LangChain tool', async () => {
    const wire = recordWire(server.server);
    const mcpUrl = `${server.url}/mcp`;
    const user = await registerUser(server.url);
    const app = new MemoryOAuthProvider<OAuthClientInformationMixed, OAuthTokens>(`http://127.0.0.1:${await freePort()}/callback`, 'LangChain agent');
    const provider: OAuthClientProvider = app;
    const agentClient = () => new MultiServerMCPClient({
      mcpServers: { notes: { transport: 'http', url: mcpUrl, authProvider: provider } },
      onConnectionError: 'throw',
    });
    try {
      const first = agentClient();
      const refused = await first.getTools().then(() => undefined, (err: unknown) => err);
      await first.close();
      expect(refused, 'the first getTools meets the 401').to.be.instanceOf(Error);
      const authorization = app.authorizationUrl(server.url);
      expect(app.info?.client_id, 'registered by DCR').to.equal(authorization.searchParams.get('client_id'));

      const back = await approve(server.url, authorization.href, user);
      expect(await auth(provider, { serverUrl: mcpUrl, authorizationCode: back.searchParams.get('code')! })).to.equal('AUTHORIZED');

      const agent = agentClient();
      try {
        const tools = await agent.getTools();
        expect(tools.map((t) => t.name)).to.include.members(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
        const whoami = tools.find((t) => t.name === 'whoami')!;
        // What the model would read: the tool's text.
        const answer: unknown = await whoami.invoke({});
        expect(JSON.stringify(answer)).to.include(`You are ${user.username} (user id ${user.userId})`);
        // The SDK client underneath, as LangChain exposes it for what its tools do not cover.
        const sdk = await agent.getClient('notes');
        expectWhoami(await sdk!.callTool({ name: 'whoami', arguments: {} }), user, app.info!.client_id);
        console.log(`      @langchain/mcp-adapters spoke ${spokenRevision(wire)}`);
      } finally {
        await agent.close();
      }
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- the server saw:\n${wire}`, { cause: err });
    } finally {
      wire.stop();
    }
  });
});
