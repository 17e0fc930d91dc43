import { expect } from 'chai';
import { expectOAuthError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { json } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { authorize, servedDocuments } from './helpers/third-party.js';

/**
 * Which client metadata a self-registered client may set (issue 12, finding 4; the table in README's "Security"),
 * by Dynamic Client Registration and by Client ID Metadata Document alike: what hosts send is accepted, fields that
 * would make this server fetch, show or send users somewhere on the client's word are refused or bounded, each with
 * an {error, error_description} that names the field.
 */
describe('client metadata of self-registered clients', () => {
  const documents = new Map<string, unknown>();
  const server = useTestServer({}, { outboundFetch: servedDocuments(documents) });

  const base = { redirect_uris: ['http://127.0.0.1:41000/cb'], token_endpoint_auth_method: 'none' };
  const register = (body: Record<string, unknown>) => fetch(`${server.url}/oauth/clients`, json(body));
  const longUrl = `https://rp.example/${'a'.repeat(2000)}`;
  const manyUris = Array.from({ length: 1000 }, (_, i) => `https://rp.example/cb/${i}`);

  it('every field the popular hosts send, all at once, is accepted; unknown ones are dropped', async () => {
    const res = await register({
      client_name: 'Visual Studio Code', client_uri: 'https://code.visualstudio.com',
      logo_uri: 'https://code.visualstudio.com/assets/branding/code-stable.png', policy_uri: 'https://rp.example/privacy',
      tos_uri: 'https://rp.example/terms', contacts: ['ops@rp.example'], software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
      software_version: '0.1.x', application_type: 'native', scope: 'notes:read notes:write',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'], response_types: ['code'],
      redirect_uris: ['https://vscode.dev/redirect', 'http://127.0.0.1:33418/', 'cursor://anysphere.cursor-mcp/oauth/callback'],
      post_logout_redirect_uris: ['https://vscode.dev/signed-out', 'http://127.0.0.1:33418/signed-out'],
      token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256', jwks_uri: 'https://chatgpt.com/oauth/jwks.json',
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'], something_else: 'x',
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(201);
    expect(body).to.include({ client_name: 'Visual Studio Code', logo_uri: 'https://code.visualstudio.com/assets/branding/code-stable.png', jwks_uri: 'https://chatgpt.com/oauth/jwks.json' });
    expect(body).to.not.have.any.keys('scope', 'software_id', 'software_version', 'token_endpoint_auth_methods_supported', 'something_else');
  });

  /** What is refused, the fields that say it (the first one is the field the description must name), and the error. */
  const refused: [string, Record<string, unknown>, string?][] = [
    ['a sector_identifier_uri', { sector_identifier_uri: 'https://rp.example/sector.json' }],
    ['an initiate_login_uri', { initiate_login_uri: 'https://rp.example/login' }],
    ['request_uris', { request_uris: ['https://rp.example/request.jwt'] }],
    ['a backchannel_logout_uri', { backchannel_logout_uri: 'https://rp.example/logout' }],
    ['a frontchannel_logout_uri', { frontchannel_logout_uri: 'https://rp.example/logout' }],
    ['a 10 kB client_name', { client_name: 'A'.repeat(10 * 1024) }],
    ['a client_name with a bidirectional override', { client_name: 'Claude \u202Eedoc' }],
    ['a client_name with a line break', { client_name: 'Claude\nverified by the server' }],
    ['a javascript: logo_uri', { logo_uri: 'javascript:alert(1)' }],
    ['a plain-http logo_uri', { logo_uri: 'http://rp.example/logo.png' }],
    ['a data: client_uri', { client_uri: 'data:text/html,<script>alert(1)</script>' }],
    ['a 2 kB tos_uri', { tos_uri: longUrl }],
    ['a policy_uri that is no URL', { policy_uri: 'not a url' }],
    ['1000 contacts', { contacts: Array.from({ length: 1000 }, (_, i) => `a${i}@rp.example`) }],
    ['1000 redirect_uris', { redirect_uris: manyUris }, 'invalid_redirect_uri'],
    ['a 2 kB redirect URI', { redirect_uris: [longUrl] }, 'invalid_redirect_uri'],
    ['1000 post_logout_redirect_uris', { post_logout_redirect_uris: manyUris }],
    ['a post_logout_redirect_uri on plain http off loopback', { post_logout_redirect_uris: ['http://evil.example/'] }],
    ['a javascript: post_logout_redirect_uri', { post_logout_redirect_uris: ['javascript:alert(1)'] }],
    ['a private-use post_logout_redirect_uri', { post_logout_redirect_uris: ['com.example.app:/signed-out'] }],
    ['a jwks_uri without private_key_jwt', { jwks_uri: 'https://rp.example/jwks.json' }],
    ['a jwks of 11 keys', { jwks: { keys: Array.from({ length: 11 }, (_, i) => ({ kty: 'oct', kid: String(i), k: 'AAAA' })) }, token_endpoint_auth_method: 'private_key_jwt' }],
    ['client_secret_jwt', { token_endpoint_auth_method: 'client_secret_jwt' }],
  ];

  describe('refused by Dynamic Client Registration, naming the field', () => {
    for (const [label, fields, error = 'invalid_client_metadata'] of refused) {
      it(`${label} → 400 ${error}`, async () => {
        const { error_description: description } = await expectOAuthError(await register({ ...base, ...fields }), 400, error);
        expect(description).to.include(Object.keys(fields)[0]!);
        expect(description.length, 'a description of reasonable size').to.be.below(300);
      });
    }
  });

  // Not repeated here: redirect_uris (host-registration.test.ts), shared-secret methods (the provider refuses them in
  // any metadata document), and documents over the provider's size limit for them, refused before a field is read.
  describe('refused in a Client ID Metadata Document: the document is unusable', () => {
    for (const [index, [label, fields]] of refused.entries()) {
      const clientId = `https://cimd-${index}.example/client.json`;
      const document = { client_id: clientId, client_name: 'Doc', ...base, ...fields };
      if (fields.redirect_uris || fields.token_endpoint_auth_method === 'client_secret_jwt' || JSON.stringify(document).length > 5 * 1024) continue;
      it(label, async () => {
        documents.set(clientId, document);
        const { res, url } = await authorize(new Browser(server.url), { clientId, name: 'Doc', redirectUri: base.redirect_uris[0]! }, {});
        await res.body?.cancel();
        expect(url.origin, 'no redirect off this server').to.equal(server.url);
        const { error_description: description } = await expectOAuthError(await fetch(url, { headers: { accept: 'application/json' } }), 400, 'invalid_client_metadata');
        expect(description).to.include(Object.keys(fields)[0]!);
      });
    }
  });
});
