import { expect } from 'chai';
import { describeTable, type Method, type RouteTable } from '../src/http/route-table.js';
import { useTestServer } from './helpers/server.js';

/** Every row of the table: what it serves, and whether the table derives a 405 for the other methods there. */
function rows(table: RouteTable) {
  return [
    ...table.routes.map((route) => ({ path: route.path, methods: route.methods, derives405: route.methods !== 'any' && !route.unlisted })),
    ...table.provider.endpoints.map((endpoint) => ({ path: endpoint.path, methods: endpoint.methods, derives405: !endpoint.path.includes('/:') })),
  ];
}

/** A path of the template, with every `:id` filled in. */
const pathOf = (template: string) => template.replace(/:[a-zA-Z]+/g, 'x');

describe('the route table (src/routes.ts) drives the app', () => {
  const server = useTestServer();
  const table = () => server.server.running.app.routes;

  it('names every step of every route, as `npm run routes` prints them', () => {
    const lines = describeTable(table());
    expect(lines).to.have.length(rows(table()).length);
    expect(lines.filter((line) => line.includes('(unnamed)'))).to.deep.equal([]);
    expect(lines).to.include.members([
      `${'any'.padEnd(12)} ${'/mcp'.padEnd(44)} cors → jsonRpcErrors → originCheck → bearerToken → postOnly → jsonRpcBody → toolScopes → mcpServer`,
      `${'POST'.padEnd(12)} ${'/oauth/revoke'.padEnd(44)} provider (revocation) → answerNotCached → uncountPassedClientRequests`,
    ]);
  });

  it('answers a method the table does not list at a path 405, with the methods it lists in Allow', async () => {
    const checked: string[] = [];
    const methodsAt = (path: string) => rows(table()).filter((r) => r.path === path).flatMap((r) => r.methods as readonly Method[]);
    for (const row of rows(table()).filter((r) => r.derives405)) {
      const listed = [...new Set(methodsAt(row.path))].filter((method) => method !== 'OPTIONS');
      const other = (['DELETE', 'POST', 'GET'] as const).find((method) => !listed.includes(method))!;
      const res = await fetch(`${server.url}${pathOf(row.path)}`, { method: other, redirect: 'manual' });
      expect(res.status, `${other} ${row.path}`).to.equal(405);
      expect(res.headers.get('allow')?.split(', ').sort(), `${other} ${row.path}`).to.deep.equal([...listed].sort());
      expect((await res.json()).error).to.equal('invalid_request');
      checked.push(row.path);
    }
    expect(checked).to.include.members(['/healthz', '/oauth/token', '/interaction/:uid/consent', '/account/apps/:clientId/revoke']);
  });

  it('labels every request\'s metrics with its route\'s template, and a path no route has as unmatched', async () => {
    const all = rows(table());
    for (const row of all) {
      const method = row.methods === 'any' ? 'GET' : row.methods.find((m) => m !== 'OPTIONS')!;
      await fetch(`${server.url}${pathOf(row.path)}`, { method, redirect: 'manual' });
    }
    await fetch(`${server.url}/interaction/x/made-up`);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const labelled = new Set([...metrics.matchAll(/^http_requests_total\{route="([^"]+)"/gm)].map((m) => m[1]));
    for (const row of all) expect(labelled.has(row.path), row.path).to.equal(true);
    expect(labelled.has('unmatched')).to.equal(true);
    expect([...labelled].filter((label) => label?.includes('/x'))).to.deep.equal([]);
  });
});
