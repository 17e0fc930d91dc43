import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { guardedFetch, OUTBOUND_LIMITS, type OutboundGuardOptions } from '../src/outbound/guarded-fetch.js';
import { assertSpecialUseCheckWorks, isSpecialUse } from '../src/outbound/special-use.js';

/**
 * The outbound guard on its own (issue 12, findings 3 and 4). Its address refusals are also tested end to end
 * (outbound-guard.test.ts, and on Bun by test/smoke/outbound-guard.mjs); the other bounds need a server that
 * answers, which the real guard would never reach on loopback: here it resolves test names to a local server
 * and allows that server's address.
 */
describe('the outbound guard', () => {
  describe('special-use addresses', () => {
    const refused = [
      '0.0.0.0', '0.255.255.255', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.255', '127.0.0.1', '127.1.2.3',
      '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.0.0.8', '192.0.2.1', '192.88.99.1', '192.168.1.1',
      '198.18.0.1', '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.250', '240.0.0.1',
      '255.255.255.255', '::', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe',
      '64:ff9b::808:808', '100::1', '2001::1', '2001:1ff:ffff::1', '2001:db8::1', 'fc00::1', 'fd12:3456::1', 'fe80::1',
      'fe80::1%eth0', 'febf::1', 'ff02::1', 'not-an-address', '',
    ];
    const allowed = [
      '1.1.1.1', '9.255.255.255', '11.0.0.1', '100.63.255.255', '100.128.0.1', '126.255.255.255', '128.0.0.1',
      '169.253.255.255', '172.15.255.255', '172.32.0.1', '192.0.1.1', '192.167.255.255', '192.169.0.1', '198.17.255.255',
      '198.20.0.1', '223.255.255.255', '2606:4700::6810:84e5', '2a00:1450:4001:81b::200e', '2001:200::1',
      '::ffff:93.184.215.14', 'fec0::1',
    ];
    for (const address of refused) it(`refuses ${address || '(empty)'}`, () => expect(isSpecialUse(address)).to.equal(true));
    for (const address of allowed) it(`allows ${address}`, () => expect(isSpecialUse(address)).to.equal(false));

    it('will not be set up on a runtime whose address check misjudges the known addresses', () => {
      expect(() => assertSpecialUseCheckWorks(() => false)).to.throw(/misjudges 127\.0\.0\.1, 10\.1\.2\.3/);
      expect(() => assertSpecialUseCheckWorks(() => true)).to.throw(/misjudges 93\.184\.215\.14/);
      expect(() => assertSpecialUseCheckWorks()).to.not.throw();
    });
  });

  /** A plain HTTP server on loopback, standing for a public host, that records what reached it. */
  const site = {
    server: undefined as Server | undefined,
    port: 0,
    requests: [] as { url: string; host: string | undefined; address: string | undefined }[],
    handler: undefined as RequestListener | undefined,
  };
  before(async () => {
    site.server = createServer((req, res) => {
      site.requests.push({ url: req.url!, host: req.headers.host, address: req.socket.localAddress });
      site.handler!(req, res);
    });
    await new Promise<void>((resolve) => site.server!.listen(0, '127.0.0.1', resolve));
    site.port = (site.server!.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => site.server!.close(() => resolve())));
  beforeEach(() => {
    site.requests = [];
    site.handler = (_req, res) => res.end('{}');
  });

  let resolutions: string[];
  /** The guard, with docs.example.test (and any name) resolving to the local server, which it allows. */
  function guard(options: OutboundGuardOptions = {}) {
    resolutions = [];
    return guardedFetch({
      resolve: async (hostname) => {
        resolutions.push(hostname);
        return ['127.0.0.1'];
      },
      refuses: (address) => address !== '127.0.0.1' && isSpecialUse(address),
      request: (opts, onResponse) => httpRequest(opts, onResponse),
      ...options,
    });
  }
  const url = (path: string, host = 'docs.example.test') => `https://${host}:${site.port}${path}`;

  it('resolves the name once and connects to that address, with the name as Host', async () => {
    site.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
    const res = await guard()(url('/jwks.json?v=1'), { headers: { accept: 'application/json' } });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ keys: [] });
    expect(res.headers.get('content-type')).to.equal('application/json');
    expect(resolutions).to.deep.equal(['docs.example.test']);
    expect(site.requests).to.deep.equal([{ url: '/jwks.json?v=1', host: `docs.example.test:${site.port}`, address: '127.0.0.1' }]);
  });

  it('refuses a name if any of its addresses is special-use, without connecting', async () => {
    for (const addresses of [['10.0.0.5'], ['93.184.215.14', '10.0.0.5'], ['2606:4700::1', 'fd00::1'], ['169.254.169.254']]) {
      const fetchOut = guardedFetch({ resolve: async () => addresses, request: httpRequest });
      const failure = await fetchOut(url('/client.json', 'internal.example.test')).then(() => 'fetched', (err: Error) => err.message);
      expect(failure).to.match(/^internal\.example\.test:\d+ resolves to a special-use address \(.+\): not fetched$/);
    }
    expect(site.requests).to.be.empty;
  });

  it('fetches https only, GET only, and no URL with credentials', async () => {
    const fetchOut = guard();
    for (const [target, init, message] of [
      [`http://docs.example.test:${site.port}/a`, {}, /http: URLs are not fetched/],
      [url('/a'), { method: 'POST', body: 'x' }, /POST requests are not made/],
      [`https://user:pw@docs.example.test:${site.port}/a`, {}, /credentials/],
    ] as const) {
      await fetchOut(target, init).then(() => expect.fail('fetched'), (err: Error) => expect(err.message).to.match(message));
    }
    expect(site.requests).to.be.empty;
  });

  it('does not follow redirects: the 3xx is the answer', async () => {
    site.handler = (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    const res = await guard()(url('/client.json'), { redirect: 'follow' });
    expect(res.status).to.equal(302);
    expect(site.requests.map((r) => r.url)).to.deep.equal(['/client.json']);
  });

  it(`reads ${OUTBOUND_LIMITS.maxBytes} bytes, and not one more: a 4 MiB key set is cut off`, async () => {
    const max = OUTBOUND_LIMITS.maxBytes;
    site.handler = (req, res) => {
      if (req.url === '/exact') return void res.end('x'.repeat(max));
      // No Content-Length: the guard must count, and stop reading, as the bytes come.
      res.writeHead(200, { 'content-type': 'application/json' });
      writeSlowly(res, 4 * 1024 * 1024);
    };
    const fetchOut = guard();
    expect((await (await fetchOut(url('/exact'))).arrayBuffer()).byteLength).to.equal(max);
    const failure = await fetchOut(url('/jwks.json')).then(() => 'fetched', (err: Error) => err.message);
    expect(failure).to.equal(`docs.example.test:${site.port}: the answer is larger than ${max} bytes`);
    expect(await sent.closedAfter, 'bytes the server could send before the guard hung up').to.be.below(1024 * 1024);
  });

  it('refuses an answer that announces more than the bound, before reading it', async () => {
    site.handler = (_req, res) => {
      res.writeHead(200, { 'content-length': String(4 * 1024 * 1024) });
      writeSlowly(res, 4 * 1024 * 1024);
    };
    const failure = await guard()(url('/sector.json')).then(() => 'fetched', (err: Error) => err.message);
    expect(failure).to.match(/the answer is larger than 65536 bytes$/);
    expect(await sent.closedAfter).to.be.below(1024 * 1024);
  });

  it('gives up on a host that does not answer, or answers too slowly, within the time bound', async () => {
    for (const handler of [
      () => {},
      (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200);
        const drip = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(drip));
      },
    ]) {
      site.handler = handler;
      const started = Date.now();
      const failure = await guard({ timeoutMs: 400 })(url('/client.json')).then(() => 'fetched', (err: Error) => err.message);
      expect(failure).to.equal(`docs.example.test:${site.port}: no complete answer within 0.4 s`);
      expect(Date.now() - started).to.be.within(350, 2000);
    }
  });

  it('stops when the provider\'s own signal aborts', async () => {
    site.handler = () => {};
    const failure = await guard()(url('/client.json'), { signal: AbortSignal.timeout(200) })
      .then(() => 'fetched', (err: Error) => err.message);
    expect(failure).to.match(/^docs\.example\.test:\d+: .*(timeout|timed out|aborted)/i);
  });

  it('tries the next address of the name when one cannot be connected to', async () => {
    // Nothing listens on 127.0.0.2 (all of 127/8 is this host's loopback): that connection is refused.
    const fetchOut = guard({ resolve: async () => ['127.0.0.2', '127.0.0.1'], refuses: () => false });
    expect((await fetchOut(url('/client.json'))).status).to.equal(200);
    expect(site.requests).to.have.length(1);
  });

  it('repeats a failure without a new request for a while: by URL for a document, by origin for a host', async () => {
    let clock = 0;
    site.handler = (_req, res) => res.writeHead(500).end();
    const fetchOut = guard({ failureTtlMs: 60_000 });
    expect((await fetchOut(url('/gone.json'))).status).to.equal(500);
    expect((await fetchOut(url('/gone.json'))).status).to.equal(500);
    expect(site.requests, 'the second 500 is remembered').to.have.length(1);
    site.handler = (_req, res) => res.end('{}');
    expect((await fetchOut(url('/other.json'))).status, 'another document of the host').to.equal(200);

    const refusing = guardedFetch({ resolve: async () => { clock++; return ['10.0.0.1']; }, failureTtlMs: 150 });
    for (const path of ['/a', '/b', '/c']) await refusing(url(path, 'private.example.test')).catch(() => undefined);
    expect(clock, 'one resolution for the whole origin').to.equal(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await refusing(url('/a', 'private.example.test')).then(() => 'fetched', (err: Error) => err.message);
    expect(again, 'after the while, asked again').to.match(/special-use/);
    expect(clock).to.equal(2);
  });

  describe('over TLS', () => {
    let dir: string;
    let tls: Server;
    let cert: Buffer;
    before(async function () {
      dir = mkdtempSync(join(tmpdir(), 'guard-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', '/CN=docs.example.test', '-addext', 'subjectAltName=DNS:docs.example.test',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      cert = readFileSync(join(dir, 'cert.pem'));
      tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => res.end(JSON.stringify({ host: req.headers.host })));
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
      return new Promise<void>((resolve) => tls.close(() => resolve()));
    });

    it('dials the checked address but verifies the certificate for the name', async () => {
      const port = (tls.address() as AddressInfo).port;
      const fetchOut = guard({ request: (opts, onResponse) => httpsRequest({ ...opts, ca: cert }, onResponse) });
      const res = await fetchOut(`https://docs.example.test:${port}/client.json`);
      expect(await res.json()).to.deep.equal({ host: `docs.example.test:${port}` });
      const failure = await fetchOut(`https://other.example.test:${port}/client.json`).then(() => 'fetched', (err: Error) => err.message);
      expect(failure).to.match(/other\.example\.test:\d+: .*(altname|does not match|ALTNAME)/i);
    });
  });
});

/** What the slow writer managed to send before the guard hung up. */
const sent = { closedAfter: Promise.resolve(0) };

/** Writes `total` bytes, 16 KiB every 5 ms (4 MiB take over a second), and records how far it got. */
function writeSlowly(res: ServerResponse, total: number) {
  let written = 0;
  const piece = Buffer.alloc(16 * 1024, 'x');
  const timer = setInterval(() => {
    if (written >= total) {
      clearInterval(timer);
      res.end();
    } else {
      written += piece.length;
      res.write(piece);
    }
  }, 5);
  sent.closedAfter = new Promise((resolve) => res.on('close', () => {
    clearInterval(timer);
    resolve(written);
  }));
}
