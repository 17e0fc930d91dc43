import { expect } from 'chai';
import { expectOAuthError } from './helpers/assertions.js';
import { getRaw } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/** Paths nobody serves: 404 JSON {error: "not_found", error_description}, never a 500 or a stack trace. */

const expectNotFound = (res: Response) => expectOAuthError(res, 404, 'not_found');

describe('unknown paths', () => {
  const server = useTestServer();

  for (const path of ['/nope', '/oauth', '/oauth/', '/oauth/nope', '/oauth/registerx', '/oauth/token/extra', '/.well-known/nope', '/assets/nope.css', '/interaction']) {
    it(`GET ${path} → 404 not_found`, async () => {
      await expectNotFound(await fetch(`${server.url}${path}`, { redirect: 'manual' }));
    });
  }

  it('POST and DELETE to an unknown path → 404 not_found', async () => {
    await expectNotFound(await fetch(`${server.url}/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    await expectNotFound(await fetch(`${server.url}/nope`, { method: 'DELETE' }));
  });

  it('a browser (Accept: text/html) gets the same JSON 404', async () => {
    await expectNotFound(await fetch(`${server.url}/nope`, { headers: { accept: 'text/html' } }));
  });

  it('the 404 description does not echo markup unescaped into HTML (it is JSON)', async () => {
    const res = await fetch(`${server.url}/%3Cscript%3Ealert(1)%3C%2Fscript%3E`);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    await expectNotFound(res);
  });

  for (const path of ['/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/..%2fpackage.json', '/assets/%2e%2e%2f.env']) {
    it(`no file outside public/ is served: GET ${path} → 404`, async () => {
      const res = await getRaw(server.url, path);
      expect(res.status, res.body).to.equal(404);
      expect(res.type).to.match(/^application\/json/);
      expect(JSON.parse(res.body).error).to.equal('not_found');
      expect(res.body).to.not.include('"dependencies"');
    });
  }
});
