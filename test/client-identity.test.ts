import { expect } from 'chai';
import { expectHtmlPage } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { json, registerUser } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { authorize, connect, interactionPage, RESOURCE_SERVER_ENV, servedDocuments, signInThere, type Host } from './helpers/third-party.js';

/**
 * How the consent page and the connected-apps page name an app (issue 11, item 5): by the name it gave itself,
 * escaped and never as verified; for an app described by a Client ID Metadata Document, also by the host its
 * client_id names, the one thing about it that was checked.
 */
describe('the app\'s identity on the consent and connected-apps pages', () => {
  const documents = new Map<string, unknown>();
  const server = useTestServer(RESOURCE_SERVER_ENV, { outboundFetch: servedDocuments(documents) });

  let documentCount = 0;
  const cimdHost = (name: string): Host => {
    const clientId = `https://apps.example.org/${++documentCount}/client.json`;
    documents.set(clientId, {
      client_id: clientId, client_name: name, redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none',
    });
    return { clientId, name, redirectUri: 'http://127.0.0.1:45678/cb' };
  };

  async function consentPageFor(host: Host, redirectUri = host.redirectUri) {
    const user = await registerUser(server.url);
    const browser = new Browser(server.url);
    const target = { ...host, redirectUri };
    const { html } = await interactionPage(await signInThere(browser, await authorize(browser, target), user));
    expect(html, 'the consent page').to.include('/consent"');
    return html;
  }

  it('a metadata document\'s app: its name, escaped, and the host of its client_id', async () => {
    const host = cimdHost('Notes <b>Pro</b> ✓ verified');
    const html = await consentPageFor(host);
    expect(html).to.include('Allow <strong class="client-name">Notes &lt;b&gt;Pro&lt;/b&gt; ✓ verified</strong> from <strong class="client-domain">apps.example.org</strong> to use your account?');
    expect(html).to.include('in a description published at <strong>apps.example.org</strong>');
    expect(html).to.include('The app chose its');
    expect(html).to.not.include('<b>Pro</b>');
  });

  it('a DCR app: its name, and no domain (its id is random)', async () => {
    const res = await fetch(`${server.url}/oauth/clients`, json({ client_name: 'Plain host', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }));
    const { client_id: clientId } = await res.json();
    const html = await consentPageFor({ clientId, name: 'Plain host', redirectUri: 'http://127.0.0.1:45679/cb' });
    expect(html).to.include('Allow <strong class="client-name">Plain host</strong> to use your account?');
    expect(html).to.not.include('client-domain');
  });

  it('a native app going back to a private-use scheme: the page names the scheme', async () => {
    const res = await fetch(`${server.url}/oauth/clients`, json({ client_name: 'Native', redirect_uris: ['com.example.notes:/cb'], token_endpoint_auth_method: 'none' }));
    const { client_id: clientId } = await res.json();
    const html = await consentPageFor({ clientId, name: 'Native', redirectUri: 'com.example.notes:/cb' });
    expect(html).to.include('Either way you go back to <strong>com.example.notes</strong>.');
  });

  it('a native app whose private-use scheme has a host (cursor://...): the page names both, not the host alone', async () => {
    const redirectUri = 'cursor://anysphere.cursor-mcp/oauth/callback';
    const res = await fetch(`${server.url}/oauth/clients`, json({ client_name: 'Cursor', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }));
    const { client_id: clientId } = await res.json();
    const html = await consentPageFor({ clientId, name: 'Cursor', redirectUri });
    expect(html).to.include('Either way you go back to <strong>cursor://anysphere.cursor-mcp</strong>.');
  });

  it('the connected-apps page lists a metadata document\'s app by name, escaped, with its domain', async () => {
    const host = cimdHost('Listed <i>app</i>');
    const user = await registerUser(server.url);
    const browser = new Browser(server.url);
    await connect(browser, host, user);
    const html = await expectHtmlPage(await browser.fetch('/account'), 200);
    expect(html).to.include('<h2>Listed &lt;i&gt;app&lt;/i&gt;</h2>');
    expect(html).to.include('Described at <strong>apps.example.org</strong>');
  });
});
