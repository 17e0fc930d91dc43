import { execFile } from 'node:child_process';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { mcpToken } from '../helpers/mcp.js';
import { useTestServer } from '../helpers/server.js';
import { nodeLts } from './helpers.js';

/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance), as the real npm package, runs every one of
 * its server scenarios against /mcp. Its `server` command has no way to send headers or a token (0.1.16: --url only),
 * and /mcp wants a bearer, so it talks to a reverse proxy on 127.0.0.1 that adds a token from our real OAuth flow and,
 * like any reverse proxy, maps its own Host and Origin to the server's (so the DNS-rebinding scenario sees what it
 * would see talking to the server directly); every other byte passes as is. It needs Node 22 or later (it imports
 * fs.globSync), so it runs on the Node LTS from npm.
 */

const CONFORMANCE = createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/dist/index.js');
const BASELINE = fileURLToPath(new URL('./conformance-baseline.yml', import.meta.url));

/**
 * The scenarios this server claims: each must run, and every one of its checks must succeed. tools-call-simple-text
 * and tools-call-error pass too, but prove nothing: they call the suite's own test_simple_text and
 * test_error_handling, which we do not have, and take the "tool not found" error result as a pass.
 */
const CLAIMED = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

function tokenProxy(target: URL, token: string) {
  const proxy = http.createServer((req, res) => {
    const own = `localhost:${(proxy.address() as AddressInfo).port}`;
    const headers = { ...req.headers, authorization: `Bearer ${token}` };
    if (req.headers.host === own) headers.host = target.host;
    if (req.headers.origin === `http://${own}`) headers.origin = target.origin;
    const upstream = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  return new Promise<http.Server>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(proxy)));
}

interface Check { id: string; status: string; errorMessage?: string }

describe('the MCP conformance suite (npm), every server scenario against /mcp', function () {
  this.timeout(120_000);
  const server = useTestServer();
  let node: string;
  let dir: string;

  before(async () => {
    node = await nodeLts();
    dir = await mkdtemp(join(tmpdir(), 'conformance-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('passes the scenarios we claim, fails exactly the ones listed in conformance-baseline.yml', async () => {
    const { token } = await mcpToken(server.url);
    const proxy = await tokenProxy(new URL(server.url), token);
    const url = `http://localhost:${(proxy.address() as AddressInfo).port}/mcp`;
    const out = join(dir, 'results');
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(node, [CONFORMANCE, 'server', '--url', url, '--suite', 'all', '--output-dir', out, '--expected-failures', BASELINE],
        { cwd: dir, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
        });
    });
    await new Promise((resolve) => proxy.close(resolve));
    const summary = run.output.slice(run.output.indexOf('=== SUMMARY ==='));

    // One directory per scenario run: server-<scenario>-<timestamp>/checks.json.
    const results = new Map<string, Check[]>();
    for (const entry of await readdir(out)) {
      const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(entry)?.[1];
      if (scenario) results.set(scenario, JSON.parse(await readFile(join(out, entry, 'checks.json'), 'utf8')));
    }
    console.log(`      ${[...results].map(([name, checks]) => `${name}: ${[...new Set(checks.map((c) => c.status))].join('/')}`).join('\n      ')}`);
    expect(run.code, `the suite against the baseline:\n${summary}`).to.equal(0);
    for (const scenario of CLAIMED) {
      const checks = results.get(scenario);
      expect(checks, `${scenario} ran`).to.not.equal(undefined).and.not.be.empty;
      expect(checks!.filter((c) => c.status !== 'SUCCESS'), `${scenario}: ${JSON.stringify(checks)}`).to.be.empty;
    }
  });
});
