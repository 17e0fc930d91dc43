// Usage: node test/smoke/outbound-guard.mjs COMMAND [ARG...]   (run from the tree the command serves)
//
// The SSRF guard on the runtime COMMAND starts the server with (see harness.mjs): on Bun oidc-provider's own guard
// cannot work (it needs undici's global dispatcher), so this is where Bun is shown guarded. Anonymous requests
// name a Client ID Metadata Document, or register a client whose key set is, on loopback and the cloud metadata
// address; each must be refused, logged as refused by the guard, and reach none of the listeners set up here.
import { createServer } from 'node:net';
import { check, expectStatus, request, run, startServer, step } from './harness.mjs';
import { probeJwksUri } from './jwks-uri-probe.mjs';

const server = startServer('outbound-guard');

/** Stand-ins for the services an attacker would reach through the server: they count connections. */
async function listener(host) {
  const counted = { connections: 0 };
  counted.server = createServer((socket) => { counted.connections++; socket.destroy(); });
  await new Promise((resolve) => counted.server.listen(0, host, resolve));
  counted.port = counted.server.address().port;
  return counted;
}
const v4 = await listener('127.0.0.1');
const v6 = await listener('::1');

/** The guard's log line for `origin`, waited for briefly: the log and the answer travel separately. */
async function refusalLogged(origin) {
  const needle = `"origin":"${origin}"`;
  for (let i = 0; i < 20 && !server.output.includes(needle); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const line = server.output.split('\n').find((entry) => entry.includes(needle)) ?? '';
  check(/special-use address/.test(line), `no refusal logged for ${origin}: ${line || '(nothing)'}`);
}

function noConnection() {
  check(v4.connections === 0 && v6.connections === 0, `connections: 127.0.0.1 ${v4.connections}, ::1 ${v6.connections}`);
}

const form = (fields) => ({ method: 'POST', body: new URLSearchParams(fields) });

await run(server, 'outbound-guard smoke', async (base) => {
  for (const host of [`127.0.0.1:${v4.port}`, `[::1]:${v6.port}`, `localhost:${v4.port}`, '169.254.169.254']) {
    await step(`a client_id metadata document on ${host} is refused, with no connection`, async () => {
      const res = await request(`${base}/oauth/par`, form({
        client_id: `https://${host}/client.json`, response_type: 'code', redirect_uri: 'https://app.example.org/cb',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
      }));
      noConnection();
      await expectStatus(res, 400);
      const body = await res.json();
      check(body.error === 'invalid_client' && body.error_description === 'client_id metadata document fetch failed', JSON.stringify(body));
      await refusalLogged(`https://${host}`);
    });
  }

  await step('a registered client\'s jwks_uri on loopback is refused when it authenticates, with no connection', async () => {
    const host = `127.0.0.1:${v4.port}`;
    const { registration, token } = await probeJwksUri(base, `https://${host}/jwks.json`);
    check(registration === 201, `registration: ${registration}`);
    noConnection();
    await expectStatus(token, 401);
    await refusalLogged(`https://${host}`);
  });
});
