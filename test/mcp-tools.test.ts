import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/server';
import {
  callTool, expectToolError, initialize, MCP_SCOPES, mcpPost, mcpToken, noteTexts, request, rpc, rpcError, toolCall, type ToolResult,
} from './helpers/mcp.js';
import { requireRedis, uniquePrefix } from './helpers/redis.js';
import { startTestServer, useTestServer, type TestServer } from './helpers/server.js';

/* The tools, as an MCP host sees them over /mcp: what they list, what they do, and how they fail. */

describe('MCP tools', () => {
  const server = useTestServer();

  it('initialize: the negotiated version, the server, its tools capability and instructions; no session (stateless)', async () => {
    const { token } = await mcpToken(server.url);
    const res = await mcpPost(server.url, token, initialize());
    expect(res.status).to.equal(200);
    expect(res.headers.get('mcp-session-id')).to.equal(null);
    const { result } = await res.json();
    expect(result.protocolVersion).to.equal(LATEST_PROTOCOL_VERSION);
    expect(result.serverInfo.name).to.equal('mcp-oauth-server');
    expect(result.serverInfo.version).to.match(/^\d+\.\d+\.\d+/);
    expect(result.capabilities.tools).to.be.an('object');
    expect(result.instructions).to.match(/notes_add/);
  });

  it('tools/list: the four tools, each with a title, a description and an object input schema', async () => {
    const { token } = await mcpToken(server.url);
    const { tools } = await rpc(server.url, token, request('tools/list'));
    expect(tools.map((t: { name: string }) => t.name)).to.deep.equal(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
    for (const tool of tools) {
      expect(tool.title, tool.name).to.be.a('string').and.not.be.empty;
      expect(tool.description, tool.name).to.be.a('string').and.have.length.above(20);
      expect(tool.inputSchema.type, tool.name).to.equal('object');
    }
    const byName = Object.fromEntries(tools.map((t: { name: string }) => [t.name, t]));
    expect(byName.notes_add.inputSchema.required).to.deep.equal(['text']);
    expect(byName.notes_add.inputSchema.properties.text).to.include({ type: 'string', minLength: 1, maxLength: 2000 });
    expect(byName.notes_delete.inputSchema.required).to.deep.equal(['id']);
    expect(byName.notes_delete.inputSchema.properties.id.pattern, 'the one id form the stores issue').to.be.a('string');
    expect(byName.notes_list.annotations.readOnlyHint).to.equal(true);
    expect(byName.notes_delete.annotations.destructiveHint).to.equal(true);
  });

  it('whoami: the user, the app and the scopes of the token, as text and as structured content', async () => {
    const { token, user } = await mcpToken(server.url);
    const result = await callTool(server.url, token, 'whoami');
    expect(result.isError).to.equal(undefined);
    expect(result.structuredContent).to.deep.equal({
      id: user.userId, username: user.username, client_id: 'client1', client_name: 'client1', scopes: MCP_SCOPES.split(' '),
    });
    // client1 is named after its id: the id alone, not the same word twice.
    expect(result.content[0]?.text).to.include(user.username).and.include(user.userId).and.include('through the app client1 with');
  });

  it('notes_add, notes_list and notes_delete: a note is kept, listed oldest first, and deleted', async () => {
    const { token } = await mcpToken(server.url);
    expect((await callTool(server.url, token, 'notes_list')).content[0]?.text).to.equal('You have no notes.');

    const first = await callTool(server.url, token, 'notes_add', { text: 'buy milk' });
    expect(first.isError).to.equal(undefined);
    expect(first.structuredContent).to.include({ text: 'buy milk' });
    const id = first.structuredContent?.id as string;
    expect(id).to.be.a('string').and.not.be.empty;
    expect(first.content[0]?.text).to.include(id);
    expect(new Date(first.structuredContent?.created_at).getTime()).to.be.closeTo(Date.now(), 60_000);
    await callTool(server.url, token, 'notes_add', { text: '  call Anna  ' });

    const listed = await callTool(server.url, token, 'notes_list');
    expect(noteTexts(listed)).to.deep.equal(['buy milk', 'call Anna']);
    expect(listed.content[0]?.text).to.match(/2 notes/).and.include(`[${id}] buy milk`);

    const deleted = await callTool(server.url, token, 'notes_delete', { id });
    expect(deleted.isError).to.equal(undefined);
    expect(deleted.content[0]?.text).to.include(id);
    expect(noteTexts(await callTool(server.url, token, 'notes_list'))).to.deep.equal(['call Anna']);
    expectToolError(await callTool(server.url, token, 'notes_delete', { id }), /no note with the id/);
  });

  describe('tool errors are results with isError, not protocol errors', () => {
    let token: string;
    before(async () => {
      ({ token } = await mcpToken(server.url));
    });

    it('notes_add with 2001 characters → isError; exactly 2000 are kept', async () => {
      expectToolError(await callTool(server.url, token, 'notes_add', { text: 'x'.repeat(2001) }), /at most 2000 characters/);
      const kept = await callTool(server.url, token, 'notes_add', { text: 'y'.repeat(2000) });
      expect(kept.isError).to.equal(undefined);
      expect(kept.structuredContent?.text).to.have.length(2000);
    });

    it('notes_add with empty, blank, missing or non-string text → isError', async () => {
      for (const args of [{ text: '' }, { text: ' \n\t ' }, {}, { text: 42 }]) {
        expectToolError(await callTool(server.url, token, 'notes_add', args), /text/);
      }
    });

    it('notes_delete of a note id that does not exist → isError naming the id', async () => {
      const id = randomUUID();
      expectToolError(await callTool(server.url, token, 'notes_delete', { id }), new RegExp(`no note with the id ${id}`));
    });

    it('notes_delete of anything but a note id → isError saying what an id is, before any store sees it', async () => {
      for (const id of ['#seq', 'no-such-note', '', randomUUID().toUpperCase()]) {
        expectToolError(await callTool(server.url, token, 'notes_delete', { id }), /id must be a note id/);
      }
    });

    it('an unknown tool → JSON-RPC error -32602 naming it (the SDK v2 answers as the MCP tools spec says)', async () => {
      const error = await rpcError(server.url, token, toolCall('notes_burn'));
      expect(error.code).to.equal(-32602);
      expect(error.message).to.include('notes_burn');
    });
  });

  it('at most 500 notes per user: the 501st → isError; after a delete there is room again', async function () {
    this.timeout(10000);
    const { token } = await mcpToken(server.url);
    // 500 calls in batches of 100, the most the SDK takes in one POST.
    for (let batch = 0; batch < 5; batch++) {
      const calls = Array.from({ length: 100 }, (_, i) => toolCall('notes_add', { text: `note ${batch * 100 + i}` }));
      const res = await mcpPost(server.url, token, calls);
      expect(res.status).to.equal(200);
      const answers = await res.json() as { result: ToolResult }[];
      expect(answers).to.have.length(100);
      expect(answers.filter((a) => a.result.isError)).to.deep.equal([]);
    }
    expectToolError(await callTool(server.url, token, 'notes_add', { text: 'one too many' }), /500 notes/);
    const listed = await callTool(server.url, token, 'notes_list');
    expect(listed.structuredContent?.notes).to.have.length(500);
    await callTool(server.url, token, 'notes_delete', { id: listed.structuredContent?.notes[0].id });
    expect((await callTool(server.url, token, 'notes_add', { text: 'room again' })).isError).to.equal(undefined);
  });

  it("per user: B neither sees nor deletes A's notes, through the same app", async () => {
    const a = await mcpToken(server.url);
    const b = await mcpToken(server.url);
    const added = await callTool(server.url, a.token, 'notes_add', { text: "A's secret" });
    const id = added.structuredContent?.id as string;

    expect(noteTexts(await callTool(server.url, b.token, 'notes_list'))).to.deep.equal([]);
    expectToolError(await callTool(server.url, b.token, 'notes_delete', { id }), /no note with the id/);
    expect(noteTexts(await callTool(server.url, a.token, 'notes_list'))).to.deep.equal(["A's secret"]);
    expect((await callTool(server.url, b.token, 'whoami')).structuredContent?.id).to.equal(b.user.userId);
  });
});

describe('MCP notes tools on Redis', () => {
  const redis = requireRedis();
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix() });
  });
  after(async () => server?.close());

  it("notes_delete cannot reach the store's own bookkeeping: '#seq' is no note, and notes stay in order", async () => {
    const { token } = await mcpToken(server.url);
    await callTool(server.url, token, 'notes_add', { text: 'first' });
    expectToolError(await callTool(server.url, token, 'notes_delete', { id: '#seq' }), /id must be a note id/);
    for (const text of ['second', 'third', 'fourth']) await callTool(server.url, token, 'notes_add', { text });
    expect(noteTexts(await callTool(server.url, token, 'notes_list'))).to.deep.equal(['first', 'second', 'third', 'fourth']);
  });
});
