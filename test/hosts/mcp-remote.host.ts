import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { expect } from 'chai';
import { freePort } from '../helpers/redis.js';
import { registerUser } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { approve, expectWhoami, openedUrl, RECORD_URL, recordWire, SERVER_REVISIONS, spokenRevision } from './helpers.js';
import { MODERN_VERSION } from '../helpers/mcp.js';

/**
 * mcp-remote, the stdio proxy desktop hosts use for remote servers, as the real npm package: it finds our
 * authorization server, registers by DCR, opens "the browser" through the `open` package (xdg-open, which honours
 * BROWSER: here a script that hands the URL to the test, which plays the user on our pages), takes the code on its
 * loopback listener, and then proxies MCP. A real MCP client (the SDK's) speaks to it over stdio as a host would.
 */

const MCP_REMOTE = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');

describe('mcp-remote (npm) from a stdio host: DCR, browser sign-in and consent, loopback callback, then MCP', function () {
  this.timeout(60_000);
  const server = useTestServer();
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-remote-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function journey(flags: string[]) {
    const wire = recordWire(server.server);
    const user = await registerUser(server.url);
    const callbackPort = await freePort();
    const opened = join(dir, 'opened-urls');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, `${server.url}/mcp`, String(callbackPort), ...flags],
      // Only what is given here and the SDK's few defaults (PATH, HOME, ...): no DISPLAY or desktop, so xdg-open
      // takes BROWSER, as on a headless machine.
      env: { BROWSER: RECORD_URL, OPENED_URLS: opened, MCP_REMOTE_CONFIG_DIR: join(dir, 'config') },
      stderr: 'pipe',
    });
    let log = '';
    transport.stderr?.on('data', (chunk: Buffer) => { log += chunk; });
    const client = new Client({ name: 'hosts-test', version: '1.0.0' });
    try {
      const connected = client.connect(transport);
      const authorization = new URL(await openedUrl(opened));
      expect(`${authorization.origin}${authorization.pathname}`).to.equal(`${server.url}/oauth/authorize`);
      expect(authorization.searchParams.get('redirect_uri')).to.equal(`http://localhost:${callbackPort}/oauth/callback`);
      expect(authorization.searchParams.get('code_challenge_method')).to.equal('S256');
      expect(authorization.searchParams.get('resource')).to.equal(`${server.url}/mcp`);
      const clientId = authorization.searchParams.get('client_id')!;

      const back = await approve(server.url, authorization.href, user);
      const page = await fetch(back);
      expect(page.status, `mcp-remote's callback page: ${await page.clone().text()}`).to.equal(200);
      await connected;

      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).to.include.members(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
      expectWhoami(await client.callTool({ name: 'whoami', arguments: {} }), user, clientId);
      // The revision the stdio side agreed with mcp-remote, and the one mcp-remote spoke to us.
      const local = client.getNegotiatedProtocolVersion();
      expect(SERVER_REVISIONS).to.include(local);
      return { wire, local, spoken: spokenRevision(wire), clientId };
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- mcp-remote's stderr:\n${log}\n--- the server saw:\n${wire}`, { cause: err });
    } finally {
      await client.close();
      wire.stop();
    }
  }

  it('the default (--protocol legacy): initialize, tools/list, tools/call whoami as the user who allowed it', async () => {
    const { wire, local, spoken } = await journey([]);
    console.log(`      mcp-remote: the host negotiated ${local}; mcp-remote spoke ${spoken} to /mcp`);
    expect(wire.mcp().filter((e) => e.version === MODERN_VERSION), `legacy mode probes nothing:\n${wire}`).to.be.empty;
    // One registration: the client id the browser was sent with is the one whoami reports (checked above).
    expect(wire.entries.filter((e) => e.method === 'POST' && e.path === '/oauth/clients')).to.have.length(1);
  });

  it('--protocol auto: probes with server/discover and speaks 2026-07-28 to /mcp, every request answered 200', async () => {
    const { wire, local, spoken } = await journey(['--protocol', 'auto']);
    const probes = wire.mcp().filter((e) => e.bearer && e.version === MODERN_VERSION);
    console.log(`      mcp-remote --protocol auto: the host negotiated ${local}; mcp-remote spoke ${spoken} to /mcp; `
      + `2026-07-28 requests: ${probes.map((e) => e.status).join(', ') || 'none'}`);
    expect(spoken, `--protocol auto speaks 2026-07-28 to a server that serves it:\n${wire}`).to.equal(MODERN_VERSION);
    expect(probes, `${wire}`).to.not.be.empty;
    expect(probes.filter((e) => e.status !== 200), `${wire}`).to.be.empty;
  });
});
