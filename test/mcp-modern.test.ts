import { expect } from 'chai';
import {
  initialize, mcpToken, MODERN_VERSION, modernAnswer, modernPost, modernRequest, modernToolCall, rpc, toolCall,
} from './helpers/mcp.js';
import { useTestServer } from './helpers/server.js';

/*
 * /mcp speaks MCP revision 2026-07-28 (stateless: no initialize, every request names its version and the client's
 * capabilities in `_meta`, and repeats its method and target in headers) next to the 2025 revisions, with the same
 * tools and the same authorization on both.
 */

const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

describe('MCP endpoint: revision 2026-07-28', () => {
  const server = useTestServer();
  let token: string;
  before(async () => {
    ({ token } = await mcpToken(server.url));
  });

  it('server/discover names the revisions, the capabilities and the server', async () => {
    const { result } = await modernAnswer(await modernPost(server.url, token, modernRequest('server/discover')));
    expect(result.supportedVersions).to.include(MODERN_VERSION);
    expect(result.capabilities).to.have.property('tools');
    expect(result.resultType).to.equal('complete');
    expect(result._meta[SERVER_INFO]).to.include({ name: 'mcp-oauth-server' });
  });

  it('tools/list: the same tools as the 2025 revisions, in a fixed order, cacheable for five minutes by anyone', async () => {
    const { result } = await modernAnswer(await modernPost(server.url, token, modernRequest('tools/list')));
    expect(result.tools.map((tool: { name: string }) => tool.name)).to.deep.equal(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
    expect(result).to.include({ resultType: 'complete', ttlMs: 300_000, cacheScope: 'public' });
    const legacy = await rpc(server.url, token, { ...toolCall('x'), method: 'tools/list', params: {} });
    expect(result.tools).to.deep.equal(legacy.tools);
  });

  it('tools/call: the tool runs for the caller of the token, and the result says it is complete and who served it', async () => {
    const { id, result } = await modernAnswer(await modernPost(server.url, token, modernToolCall('notes_add', { text: 'from 2026' })));
    expect(id).to.be.a('number');
    expect(result.resultType).to.equal('complete');
    expect(result._meta[SERVER_INFO].name).to.equal('mcp-oauth-server');
    const listed = await modernAnswer(await modernPost(server.url, token, modernToolCall('notes_list')));
    expect(listed.result.structuredContent.notes.map((note: { text: string }) => note.text)).to.include('from 2026');
    // The same note through a 2025 request: one store, two eras.
    const legacy = await rpc(server.url, token, toolCall('notes_list'));
    expect(legacy.structuredContent.notes).to.deep.equal(listed.result.structuredContent.notes);
    expect(legacy).to.not.have.property('resultType');
  });

  it('an Mcp-Name header that does not match the body → 400 HeaderMismatch (-32020), and the tool does not run', async () => {
    const res = await modernPost(server.url, token, modernToolCall('notes_add', { text: 'must not be saved' }), { 'mcp-name': 'whoami' });
    const { error } = await modernAnswer(res, 400);
    expect(error?.code).to.equal(-32020);
    const listed = await modernAnswer(await modernPost(server.url, token, modernToolCall('notes_list')));
    expect(JSON.stringify(listed.result)).to.not.include('must not be saved');
  });

  it('a missing Mcp-Method header → 400 HeaderMismatch (-32020)', async () => {
    const res = await modernPost(server.url, token, modernRequest('tools/list'), { 'mcp-method': '' });
    expect((await modernAnswer(res, 400)).error?.code).to.equal(-32020);
  });

  it('a revision we do not serve → 400 UnsupportedProtocolVersion (-32022) listing every one we do, the 2025 ones too', async () => {
    const message = modernRequest('tools/list');
    (message.params!._meta as Record<string, unknown>)['io.modelcontextprotocol/protocolVersion'] = '2099-01-01';
    const { error } = await modernAnswer(await modernPost(server.url, token, message, { 'mcp-protocol-version': '2099-01-01' }), 400);
    expect(error?.code).to.equal(-32022);
    expect(error?.data.supported).to.deep.equal([MODERN_VERSION, '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07']);
    expect(error?.data.requested).to.equal('2099-01-01');
  });

  it('an envelope without the client capabilities → 400 invalid params (-32602)', async () => {
    const message = modernRequest('tools/list');
    delete (message.params!._meta as Record<string, unknown>)['io.modelcontextprotocol/clientCapabilities'];
    expect((await modernAnswer(await modernPost(server.url, token, message), 400)).error?.code).to.equal(-32602);
  });

  it('a method the revision does not have (ping, initialize inside the envelope, or unknown) → 404 method not found (-32601)', async () => {
    for (const method of ['ping', 'initialize', 'notes/burn']) {
      const { error } = await modernAnswer(await modernPost(server.url, token, modernRequest(method)), 404);
      expect(error?.code, method).to.equal(-32601);
    }
  });

  it('a notification → 202 with no body', async () => {
    const { id: _id, ...notification } = modernRequest('notifications/cancelled', { requestId: 1 });
    const res = await modernPost(server.url, token, notification as ReturnType<typeof modernRequest>);
    expect(res.status).to.equal(202);
    expect(await res.text()).to.equal('');
  });

  it('the same bearer checks: no token → 401 with the challenge; a token without the scope → 403 to step up from', async () => {
    const missing = await modernPost(server.url, undefined, modernToolCall('notes_list'));
    expect(missing.status).to.equal(401);
    expect(missing.headers.get('www-authenticate')).to.match(/^Bearer resource_metadata="/);
    const { token: readOnly } = await mcpToken(server.url, 'notes:read');
    const denied = await modernPost(server.url, readOnly, modernToolCall('notes_add', { text: 'no' }));
    expect(denied.status).to.equal(403);
    expect(denied.headers.get('www-authenticate')).to.include('error="insufficient_scope", scope="notes:read notes:write"');
  });

  it('the 2025 handshake still works on the same endpoint, and negotiates a 2025 revision', async () => {
    const result = await rpc(server.url, token, initialize());
    expect(result.protocolVersion).to.equal('2025-11-25');
    expect(result.serverInfo.name).to.equal('mcp-oauth-server');
  });
});
