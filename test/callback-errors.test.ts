import { expect } from 'chai';
import { expectHtmlPage } from './helpers/assertions.js';
import { useTestServer } from './helpers/server.js';

/** GET /callback (client1's redirect target) with bad input: a readable 400 page, escaped, never cached. */

const alertOf = (html: string) => /<p class="error" role="alert">([\s\S]*?)<\/p>/.exec(html)?.[1];

describe('GET /callback with bad input', () => {
  const server = useTestServer();

  const get = (query: string) => fetch(`${server.url}/callback${query}`, { redirect: 'manual' });

  for (const query of ['', '?', '?code=', '?state=abc', '?error_description=only-a-description']) {
    it(`"${query}" (no code, no error) → 400 page saying there is no code`, async () => {
      const html = await expectHtmlPage(await get(query), 400);
      expect(html).to.include('No authorization code');
      expect(html).to.not.include('id="copy"');
    });
  }

  it('error=access_denied&error_description=<b>x</b> → 400 page showing the description escaped', async () => {
    const html = await expectHtmlPage(await get(`?${new URLSearchParams({ error: 'access_denied', error_description: '<b>x</b>' })}`), 400);
    expect(html).to.include('Authorization failed');
    expect(alertOf(html)).to.equal('&lt;b&gt;x&lt;/b&gt;');
    expect(html).to.not.include('<b>x</b>');
    expect(html).to.include('<code>access_denied</code>');
  });

  it('an error without a description → 400 page with a generic description and the error code', async () => {
    const html = await expectHtmlPage(await get('?error=server_error'), 400);
    expect(alertOf(html)).to.be.a('string').and.not.equal('');
    expect(html).to.include('<code>server_error</code>');
  });

  it('an error code with markup is escaped too', async () => {
    const html = await expectHtmlPage(await get(`?${new URLSearchParams({ error: '"><img src=x onerror=alert(1)>' })}`), 400);
    expect(html).to.not.include('<img');
    expect(html).to.include('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('an error together with a code → the error wins: 400 page, no code to copy', async () => {
    const html = await expectHtmlPage(await get('?error=access_denied&code=should-not-show'), 400);
    expect(html).to.include('Authorization failed');
    expect(html).to.not.include('should-not-show');
  });

  it('a code with markup is shown escaped inside the input value', async () => {
    const html = await expectHtmlPage(await get(`?${new URLSearchParams({ code: '"><script>alert(1)</script>' })}`), 200);
    expect(html).to.include('value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).to.not.include('<script>alert(1)');
  });

  it('POST /callback → 405 JSON, not a 500', async () => {
    const res = await fetch(`${server.url}/callback`, { method: 'POST' });
    const text = await res.text();
    expect(res.status, text).to.equal(405);
    expect(JSON.parse(text)).to.have.all.keys('error', 'error_description');
  });
});
