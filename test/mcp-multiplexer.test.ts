import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { pino } from 'pino';
import {
  LATEST_PROTOCOL_VERSION, type CallToolResult, type JSONRPCMessage, type JSONRPCResponse, type McpServer,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { MemoryNotesStore } from '../adapters/memory/notes.js';
import { callerOf, toAuthInfo } from '../src/mcp/caller.js';
import { mcpServerFactory } from '../src/mcp/mcp-server.js';
import { MultiplexingTransport } from '../src/mcp/multiplexing-transport.js';
import { tools } from '../src/tools/index.js';
import {
  expectJsonRpcError, initialize, mcpHeaders, mcpPost, mcpToken, request, toolCall,
} from './helpers/mcp.js';
import { useTestServer } from './helpers/server.js';

/*
 * One long-lived McpServer behind a MultiplexingTransport serves every POST to /mcp: requests in flight at once
 * must never see each other's ids, callers or answers, nothing may stay behind, and what the SDK's stateless
 * transport answered at the HTTP edge is answered the same.
 */

const INVALID_REQUEST = -32600;
const INTERNAL_ERROR = -32603;
const SERVER_ERROR = -32000;

const authFor = (username: string) => toAuthInfo(
  { accountId: `id-${username}`, username, clientId: 'client1', clientName: 'client1', scopes: [] },
  'token', Math.floor(Date.now() / 1000) + 60, 'http://localhost:3000/mcp',
);

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** The text a tools/call answer carries, or its JSON-RPC error. */
function outcome(answer: JSONRPCResponse | undefined): string {
  if (!answer) return '(no answer)';
  if ('error' in answer) return `error ${answer.error.code}: ${answer.error.message}`;
  return (answer.result as { content: { text: string }[] }).content[0]!.text;
}

const call = (id: string | number, name: string, args: Record<string, unknown> = {}) =>
  ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) as JSONRPCMessage;

describe('the multiplexing transport (one server, without HTTP)', () => {
  let server: McpServer;
  let transport: MultiplexingTransport;
  /** What the `hang` tool saw: whether the transport had its handler aborted. */
  let hangAborted: boolean;

  beforeEach(async () => {
    hangAborted = false;
    server = mcpServerFactory(tools, new MemoryNotesStore(), pino({ level: 'silent' }))();
    // Answers after `ms` milliseconds with the caller's name and `tag`: later requests can finish first.
    server.registerTool('echo', { inputSchema: z.object({ tag: z.string(), ms: z.number() }) }, async ({ tag, ms }, ctx) => {
      await sleep(ms);
      return text(`${callerOf(ctx.http?.authInfo)?.username}:${tag}`);
    });
    server.registerTool('hang', {}, async (ctx) => new Promise<CallToolResult>(() => {
      ctx.mcpReq.signal.addEventListener('abort', () => {
        hangAborted = true;
      });
    }));
    // Everything a server may start itself, with no stream to send it on.
    server.registerTool('chatty', {}, async (ctx) => {
      await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
      const ping = await ctx.mcpReq.send({ method: 'ping' }).then(() => 'answered', (err: Error) => err.message);
      return text(`ping: ${ping}`);
    });
    transport = new MultiplexingTransport(100);
    await server.connect(transport);
  });

  afterEach(async () => {
    await server.close();
  });

  it('concurrent requests with the same client id each get their own answer, with that id', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `user${i}`);
    // The first sent is the last to finish: answers come back in the reverse order.
    const answers = await Promise.all(users.map((user, i) =>
      transport.dispatch([call(1, 'echo', { tag: `t${i}`, ms: 40 - i })], { authInfo: authFor(user) })));
    answers.forEach(([answer], i) => {
      expect(answer?.id).to.equal(1);
      expect(outcome(answer)).to.equal(`user${i}:t${i}`);
    });
    expect(transport.inFlight).to.equal(0);
  });

  it('a batch: answers in the order of its requests, with their ids (even repeated ones); notifications get none', async () => {
    const answers = await transport.dispatch([
      call('same', 'echo', { tag: 'first', ms: 20 }),
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      call('same', 'echo', { tag: 'second', ms: 0 }),
      call(0, 'no_such_tool'),
      { jsonrpc: '2.0', id: 5, method: 'no/such/method' },
    ], { authInfo: authFor('alice') });
    expect(answers.map((a) => a.id)).to.deep.equal(['same', 'same', 0, 5]);
    expect(answers.slice(0, 2).map(outcome)).to.deep.equal(['alice:first', 'alice:second']);
    expect(outcome(answers[2])).to.include('no_such_tool');
    expect(outcome(answers[3])).to.match(/^error -32601/);
    expect(transport.inFlight).to.equal(0);
  });

  it('notifications and responses only: no answers, nothing pending', async () => {
    const answers = await transport.dispatch([
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 2, error: { code: -1, message: 'no' } },
    ], {});
    expect(answers).to.deep.equal([]);
    expect(transport.inFlight).to.equal(0);
  });

  it("a client's cancellation reaches no request: its id could be anyone's", async () => {
    const slow = transport.dispatch([call(1, 'echo', { tag: 'kept', ms: 30 })], { authInfo: authFor('alice') });
    // Every id the server could know the request by, and the client's own.
    const cancellations = Array.from({ length: 20 }, (_, requestId) =>
      ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } }) as JSONRPCMessage);
    expect(await transport.dispatch(cancellations, { authInfo: authFor('mallory') })).to.deep.equal([]);
    expect(outcome((await slow)[0])).to.equal('alice:kept');
  });

  it('a request never answered: an internal error after the timeout, its handler aborted, nothing left behind', async () => {
    const started = Date.now();
    const answers = await transport.dispatch([call('h', 'hang'), call('e', 'echo', { tag: 'done', ms: 0 })], { authInfo: authFor('alice') });
    expect(Date.now() - started).to.be.within(90, 1000);
    expect(answers[0]).to.deep.equal({ jsonrpc: '2.0', id: 'h', error: { code: INTERNAL_ERROR, message: 'Internal error: no answer within 0.1 s' } });
    // The other request of the same batch was answered in time and keeps its answer.
    expect(outcome(answers[1])).to.equal('alice:done');
    expect(transport.inFlight).to.equal(0);
    await sleep(10);
    expect(hangAborted, 'the handler was told to stop').to.equal(true);
    expect(outcome((await transport.dispatch([call(1, 'whoami')], { authInfo: authFor('bob') }))[0])).to.include('bob');
  });

  it('messages the server starts itself: its notifications are dropped and its requests fail at once, and serving goes on', async () => {
    const [answer] = await transport.dispatch([call(1, 'chatty')], { authInfo: authFor('alice') });
    expect(outcome(answer)).to.match(/^ping: this server is stateless: it cannot send ping to the client/);
    // A notification of its own, related to no request: a tool added while connected announces the new list.
    server.registerTool('late', {}, async () => text('late tool'));
    await sleep(5);
    expect(outcome((await transport.dispatch([call(2, 'late')], { authInfo: authFor('alice') }))[0])).to.equal('late tool');
    expect(transport.inFlight).to.equal(0);
  });

  it('closing answers the requests still waiting at once, and the ones after it too', async () => {
    const waiting = transport.dispatch([call(1, 'hang')], { authInfo: authFor('alice') });
    await sleep(5);
    await server.close();
    expect(await waiting).to.deep.equal([
      { jsonrpc: '2.0', id: 1, error: { code: INTERNAL_ERROR, message: 'Internal error: the MCP server is shut down' } },
    ]);
    expect(hangAborted, 'the server aborted the handler').to.equal(true);
    expect(outcome((await transport.dispatch([call(2, 'whoami')], {}))[0])).to.match(/^error -32603/);
    expect(transport.inFlight).to.equal(0);
  });
});

describe('MCP endpoint: one server for every request', () => {
  const server = useTestServer();
  let alice: Awaited<ReturnType<typeof mcpToken>>;
  let bob: Awaited<ReturnType<typeof mcpToken>>;
  before(async () => {
    alice = await mcpToken(server.url);
    bob = await mcpToken(server.url);
  });

  /** POSTs a body and returns the status and the parsed answer. */
  async function post(token: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await mcpPost(server.url, token, body, headers);
    const raw = await res.text();
    return { status: res.status, body: raw ? JSON.parse(raw) : undefined, type: res.headers.get('content-type') };
  }

  it('two users calling at once with the same request id each get their own answer', async () => {
    const callers = Array.from({ length: 40 }, (_, i) => (i % 2 ? alice : bob));
    const answers = await Promise.all(callers.map((c) => post(c.token, { ...toolCall('whoami'), id: 1 })));
    answers.forEach(({ status, body, type }, i) => {
      expect(status).to.equal(200);
      expect(type).to.match(/^application\/json/);
      expect(body.id).to.equal(1);
      expect(body.result.structuredContent.id).to.equal(callers[i]!.user.userId);
    });
  });

  it('a batch: an array of the answers in the order of its requests; one request among notifications: one object', async () => {
    const notification = { jsonrpc: '2.0', method: 'notifications/initialized' };
    const two = await post(alice.token, [{ ...toolCall('whoami'), id: 'x' }, notification, { ...request('tools/list'), id: 'x' }]);
    expect(two.status).to.equal(200);
    expect(two.body.map((a: { id: string }) => a.id)).to.deep.equal(['x', 'x']);
    expect(two.body[0].result.structuredContent.username).to.equal(alice.user.username);
    expect(two.body[1].result.tools).to.have.length(4);

    const one = await post(alice.token, [notification, toolCall('whoami')]);
    expect(one.status).to.equal(200);
    expect(one.body).to.be.an('object').and.include({ jsonrpc: '2.0' });
    expect(one.body.result.structuredContent.username).to.equal(alice.user.username);
  });

  it('a response from the client → 202 with no body, as a notification', async () => {
    const res = await mcpPost(server.url, alice.token, { jsonrpc: '2.0', id: 1, result: {} });
    expect(res.status).to.equal(202);
    expect(await res.text()).to.equal('');
  });

  it('initialize answers alone; with another message in the batch → 400 invalid request', async () => {
    const alone = await post(alice.token, initialize(), { 'mcp-protocol-version': '1999-01-01' });
    expect(alone.status, 'the version header is not checked for initialize').to.equal(200);
    expect(alone.body.result.protocolVersion).to.equal(LATEST_PROTOCOL_VERSION);
    const res = await mcpPost(server.url, alice.token, [initialize(), toolCall('whoami')]);
    expect(await expectJsonRpcError(res, 400, INVALID_REQUEST)).to.include('Only one initialization request');
  });

  it('a batch of more than 100 messages → 400 invalid request, and nothing runs', async () => {
    const calls = Array.from({ length: 101 }, (_, i) => toolCall('notes_add', { text: `n${i}` }));
    expect(await expectJsonRpcError(await mcpPost(server.url, alice.token, calls), 400, INVALID_REQUEST)).to.include('100');
    expect((await post(alice.token, toolCall('notes_list'))).body.result.structuredContent.notes).to.deep.equal([]);
  });

  it('MCP-Protocol-Version: absent is accepted (the default version); empty is not', async () => {
    const { 'mcp-protocol-version': _version, ...headers } = mcpHeaders(alice.token);
    const res = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: JSON.stringify(toolCall('whoami')) });
    expect(res.status).to.equal(200);
    const empty = await mcpPost(server.url, alice.token, toolCall('whoami'), { 'mcp-protocol-version': '' });
    expect(await expectJsonRpcError(empty, 400, SERVER_ERROR)).to.include('Unsupported protocol version');
  });

  it('the refusals the SDK transport made carry no id, as our other refusals at the edge', async () => {
    await expectJsonRpcError(await mcpPost(server.url, alice.token, request('tools/list'), { accept: 'application/json' }), 406, SERVER_ERROR);
    await expectJsonRpcError(await mcpPost(server.url, alice.token, { hello: 'world' }), 400, -32700);
  });
});

