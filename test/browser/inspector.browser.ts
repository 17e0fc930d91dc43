import { expect } from 'chai';
import { registerUser } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { recordWire, SERVER_REVISIONS, spokenRevision } from '../hosts/helpers.js';
import { useChromium } from './chromium.js';
import { addAndConnect, callWhoami, startInspector, type Inspector } from './inspector.js';

/**
 * The MCP Inspector 2.x of npm, in chromium, as a person uses it: Add Servers, our /mcp over Streamable HTTP, its
 * OAuth (DCR, then our sign-in and consent pages in the same tab), the tool list, whoami.
 */
describe('the MCP Inspector (npm, 2.x) in chromium: add our server, sign in and allow, list tools, call whoami', function () {
  this.timeout(90_000);
  const server = useTestServer();
  const chrome = useChromium();
  let inspector: Inspector | undefined;

  before(async () => {
    inspector = await startInspector();
  });
  after(() => inspector?.close());

  it('connects through our OAuth and runs whoami as the user who allowed it', async () => {
    const wire = recordWire(server.server);
    const { page, problems } = await chrome.open({ viewport: { width: 1280, height: 800 } });
    const user = await registerUser(server.url);
    try {
      const revision = await addAndConnect(page, inspector!, `${server.url}/mcp`, user);
      expect(SERVER_REVISIONS).to.include(revision);
      const text = await callWhoami(page, ['whoami', 'notes_add', 'notes_list', 'notes_delete']);
      const registered = wire.entries.filter((e) => e.method === 'POST' && e.path === '/oauth/clients' && e.status === 201);
      expect(registered, 'one registration by DCR').to.have.length(1);
      expect(text).to.match(new RegExp(`^You are ${user.username} \\(user id ${user.userId}\\), connected through the app "MCP Inspector" \\(\\S+\\) with the scopes: notes:read notes:write\\.$`));
      expect(spokenRevision(wire)).to.equal(revision);
      console.log(`      the Inspector connected with ${revision}`);
      // Our pages, used by the Inspector, showed no console error or CSP violation (the Inspector's own page asks
      // for web fonts from the internet, which this machine cannot reach: not ours to judge).
      expect(problems.filter((p) => p.startsWith(server.url))).to.deep.equal([]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- the server saw:\n${wire}\n--- the Inspector printed:\n${inspector!.output()}`, { cause: err });
    } finally {
      wire.stop();
    }
  });
});
