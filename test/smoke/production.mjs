// Usage: node test/smoke/production.mjs COMMAND [ARG...]   (run from the tree the command serves)
//
// What an orchestrator and a first visitor see of a deployed server (see harness.mjs for how it starts): liveness,
// readiness, discovery, the MCP endpoint's challenge, and a page rendered from views/ with its stylesheet from
// public/. production.sh runs it against the Docker image's files and command.
import { check, expectStatus, request, run, startServer, step } from './harness.mjs';

const server = startServer('production');

await run(server, 'production smoke', async (base) => {
  await step('GET /healthz and /readyz answer 200', async () => {
    await expectStatus(await request(`${base}/healthz`), 200);
    await expectStatus(await request(`${base}/readyz`), 200);
  });
  await step('GET /.well-known/openid-configuration names the issuer', async () => {
    const res = await request(`${base}/.well-known/openid-configuration`);
    await expectStatus(res, 200);
    const { issuer } = await res.json();
    check(issuer === base, `issuer ${issuer}`);
  });
  await step('POST /mcp without a token: 401 with the Bearer challenge naming the resource metadata', async () => {
    const res = await request(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    await expectStatus(res, 401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    check(/^Bearer .*resource_metadata="/.test(challenge), `WWW-Authenticate: ${challenge}`);
  });
  await step('GET /account renders its page, and the stylesheet it links is served', async () => {
    const page = await request(`${base}/account`);
    await expectStatus(page, 200);
    const stylesheet = /<link rel="stylesheet" href="([^"]+)"/.exec(await page.text())?.[1];
    check(stylesheet, 'the page links no stylesheet');
    const css = await request(new URL(stylesheet, base));
    await expectStatus(css, 200);
    check(css.headers.get('content-type')?.startsWith('text/css'), `content-type ${css.headers.get('content-type')}`);
    check((await css.text()).length > 0, 'an empty stylesheet');
  });
});
