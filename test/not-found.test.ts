import http from 'node:http';
import { expect } from 'chai';
import { startTestServer, type TestServer } from './helpers/server.js';

/** Paths nobody serves: 404 JSON {error: "not_found", error_description}, never a 500 or a stack trace. */

const STACK_TRACE = /\n\s+at\s|node_modules|\.[cm]?[jt]s:\d+/;

async function expectNotFound(res: Response) {
  const text = await res.text();
  expect(res.status, text).to.equal(404);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  expect(text).not.to.match(STACK_TRACE);
  const body = JSON.parse(text);
  expect(body).to.have.all.keys('error', 'error_description');
  expect(body.error).to.equal('not_found');
  expect(body.error_description).to.be.a('string').and.not.be.empty;
  return body as { error: string; error_description: string };
}

/** A GET with the path sent exactly as given (fetch would normalise dot segments away). */
function getRawPath(base: string, path: string) {
  const { hostname, port } = new URL(base);
  return new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    http.get({ hostname, port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    }).on('error', reject);
  });
}

describe('unknown paths', () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startTestServer();
    base = server.url;
  });
  after(() => server.close());

  for (const path of ['/', '/nope', '/oauth', '/oauth/', '/oauth/nope', '/oauth/registerx', '/oauth/token/extra', '/.well-known/nope', '/assets/nope.css', '/interaction']) {
    it(`GET ${path} → 404 not_found`, async () => {
      await expectNotFound(await fetch(`${base}${path}`, { redirect: 'manual' }));
    });
  }

  it('POST and DELETE to an unknown path → 404 not_found', async () => {
    await expectNotFound(await fetch(`${base}/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    await expectNotFound(await fetch(`${base}/nope`, { method: 'DELETE' }));
  });

  it('a browser (Accept: text/html) gets the same JSON 404', async () => {
    await expectNotFound(await fetch(`${base}/nope`, { headers: { accept: 'text/html' } }));
  });

  it('the 404 description does not echo markup unescaped into HTML (it is JSON)', async () => {
    const res = await fetch(`${base}/%3Cscript%3Ealert(1)%3C%2Fscript%3E`);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    await expectNotFound(res);
  });

  for (const path of ['/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/..%2fpackage.json', '/assets/%2e%2e%2f.env']) {
    it(`no file outside public/ is served: GET ${path} → 404`, async () => {
      const res = await getRawPath(base, path);
      expect(res.status, res.body).to.equal(404);
      expect(res.type).to.match(/^application\/json/);
      expect(JSON.parse(res.body).error).to.equal('not_found');
      expect(res.body).to.not.include('"dependencies"');
    });
  }
});
