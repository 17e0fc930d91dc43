import {
  auth, createMCPClient, UnauthorizedError,
  type OAuthAuthorizationServerInformation, type OAuthClientInformation, type OAuthClientProvider, type OAuthTokens,
} from '@ai-sdk/mcp';
import { expect } from 'chai';
import { freePort } from '../helpers/redis.js';
import { registerUser } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { approve, expectWhoami, MemoryOAuthProvider, recordWire, spokenRevision } from './helpers.js';
import { MODERN_VERSION } from '../helpers/mcp.js';

/**
 * The Vercel AI SDK's MCP client (@ai-sdk/mcp), as the real npm package, with its own OAuth: the app gives it an
 * OAuthClientProvider (storage, and "send the user to this URL"), and the SDK does discovery, DCR, PKCE, the code
 * exchange and the bearer. The package asks for Node 22 in "engines", yet all it does here works on CI's Node 20,
 * so it runs in this process.
 */

describe('@ai-sdk/mcp (npm): its OAuth provider through DCR, sign-in, consent and the code exchange, then tools', function () {
  this.timeout(30_000);
  const server = useTestServer();

  it('createMCPClient → 401 → the user allows → auth() with the code → listTools, callTool whoami', async () => {
    const wire = recordWire(server.server);
    const mcpUrl = `${server.url}/mcp`;
    const user = await registerUser(server.url);
    // The app's loopback listener is the app's business, not the SDK's: the test takes the code from the redirect.
    const app = new MemoryOAuthProvider<OAuthClientInformation, OAuthTokens, OAuthAuthorizationServerInformation>(
      `http://127.0.0.1:${await freePort()}/callback`, 'AI SDK app');
    const provider: OAuthClientProvider = app;
    try {
      let refused: unknown;
      await createMCPClient({ transport: { type: 'http', url: mcpUrl, authProvider: provider } }).catch((err: unknown) => { refused = err; });
      expect(refused, String(refused)).to.be.instanceOf(UnauthorizedError);
      const authorization = app.authorizationUrl(server.url);
      expect(app.info?.client_id, 'registered by DCR').to.equal(authorization.searchParams.get('client_id'));

      const back = await approve(server.url, authorization.href, user);
      expect(await auth(provider, {
        serverUrl: mcpUrl,
        authorizationCode: back.searchParams.get('code')!,
        callbackState: back.searchParams.get('state') ?? undefined,
        callbackIssuer: back.searchParams.get('iss') ?? undefined,
      })).to.equal('AUTHORIZED');

      const mcp = await createMCPClient({ transport: { type: 'http', url: mcpUrl, authProvider: provider } });
      try {
        const { tools } = await mcp.listTools();
        expect(tools.map((t) => t.name)).to.include.members(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
        expectWhoami(await mcp.callTool({ name: 'whoami', arguments: {} }), user, app.info!.client_id);
        const negotiated = mcp.initializeResult.protocolVersion;
        // It probes with server/discover first, so against this server it speaks the current revision.
        expect(negotiated).to.equal(MODERN_VERSION);
        expect(spokenRevision(wire)).to.equal(negotiated);
        const probes = wire.mcp().filter((e) => e.bearer && e.version === MODERN_VERSION);
        console.log(`      @ai-sdk/mcp negotiated ${negotiated}; its 2026-07-28 requests were answered: ${probes.map((e) => e.status).join(', ') || 'none sent'}`);
      } finally {
        await mcp.close();
      }
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- the server saw:\n${wire}`, { cause: err });
    } finally {
      wire.stop();
    }
  });
});
