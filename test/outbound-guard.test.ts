import { createServer, type AddressInfo, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { loadConfig } from '../config/env.js';
import { createLogger } from '../src/log.js';
import { start, type Running } from '../src/start.js';
import { form, json } from './helpers/seed.js';
import { probeJwksUri } from './smoke/jwks-uri-probe.mjs';

/**
 * Issue 12, finding 3: URLs anonymous callers choose (a Client ID Metadata Document's client_id, a registered
 * client's jwks_uri) must not make the server connect into its own network. The server as production runs it:
 * no outboundFetch given, so the real guard. Listeners on loopback stand for the services an attacker would reach,
 * and must see no connection at all (oidc-provider's own guard, where it works, only hangs up once connected).
 */
describe('outbound fetches to special-use addresses (SSRF)', () => {
  let running: Running;
  let base: string;
  const lines: string[] = [];
  const listeners: Record<'v4' | 'v6', { server: Server; port: number; connections: number }> = {} as never;

  before(async () => {
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    running = await start(loadConfig({ PORT: '0', LIMIT_CLIENT_REGISTRATIONS_PER_IP: '0', LIMIT_TOKEN_ERRORS_PER_CLIENT_AND_IP: '0' }),
      createLogger('info', sink));
    base = running.issuer;
    for (const [family, host] of [['v4', '127.0.0.1'], ['v6', '::1']] as const) {
      const listener = { server: createServer((socket) => { listener.connections++; socket.destroy(); }), port: 0, connections: 0 };
      await new Promise<void>((resolve) => listener.server.listen(0, host, resolve));
      listener.port = (listener.server.address() as AddressInfo).port;
      listeners[family] = listener;
    }
  });
  after(async () => {
    await running.close();
    for (const { server } of Object.values(listeners)) server.close();
  });
  beforeEach(() => {
    for (const listener of Object.values(listeners)) listener.connections = 0;
  });
  function expectNoConnection() {
    expect(listeners.v4.connections, 'connections to 127.0.0.1').to.equal(0);
    expect(listeners.v6.connections, 'connections to ::1').to.equal(0);
  }

  /** The refusal the log gives for `host`: the client only learns that the fetch failed. */
  function loggedRefusal(host: string) {
    return lines.map((line) => JSON.parse(line)).find((entry) => entry.origin === `https://${host}`)?.msg;
  }

  /** A pushed authorization request by a client identified by its metadata document's URL: JSON errors. */
  function parAs(clientId: string) {
    return fetch(`${base}/oauth/par`, form({
      client_id: clientId, response_type: 'code', redirect_uri: 'https://app.example.org/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    }));
  }

  const cases = [
    ['127.0.0.1', () => `127.0.0.1:${listeners.v4.port}`, /is a special-use address \(127\.0\.0\.1\)/],
    ['::1', () => `[::1]:${listeners.v6.port}`, /is a special-use address \(::1\)/],
    ['a name resolving to loopback (localhost)', () => `localhost:${listeners.v4.port}`, /localhost:\d+ resolves to a special-use address \((127\.0\.0\.1|::1)/],
    ['10.0.0.1 (a private network)', () => '10.0.0.1', /is a special-use address \(10\.0\.0\.1\)/],
    ['169.254.169.254 (the cloud metadata service)', () => '169.254.169.254', /is a special-use address \(169\.254\.169\.254\)/],
    ['::ffff:127.0.0.1 (loopback, IPv4-mapped)', () => `[::ffff:7f00:1]:${listeners.v4.port}`, /is a special-use address \(::ffff:7f00:1\)/],
  ] as const;
  for (const [what, host, reason] of cases) {
    it(`refuses a client_id metadata document on ${what}, without connecting`, async () => {
      const res = await parAs(`https://${host()}/client.json`);
      expectNoConnection();
      expect(res.status).to.equal(400);
      expect(await res.json()).to.deep.equal({ error: 'invalid_client', error_description: 'client_id metadata document fetch failed' });
      expect(loggedRefusal(host()), 'the reason, in the log').to.match(reason);
    });
  }

  it('refuses a registered client\'s jwks_uri on loopback when it authenticates, without connecting', async () => {
    const host = `127.0.0.1:${listeners.v4.port}`;
    const { registration, token } = await probeJwksUri(base, `https://${host}/jwks.json`);
    expect(registration).to.equal(201);
    expectNoConnection();
    expect(token!.status).to.equal(401);
    expect((await token!.json()).error).to.equal('invalid_client');
    expect(loggedRefusal(host)).to.match(/is a special-use address \(127\.0\.0\.1\)/);
  });
});
