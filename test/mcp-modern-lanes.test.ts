import { expect } from 'chai';
import { pino } from 'pino';
import { z } from 'zod';
import type { Note, NotesStore } from '../adapters/stores.js';
import type { McpAnswer } from '../src/mcp/answer.js';
import { toAuthInfo } from '../src/mcp/caller.js';
import { declaresParamHeaders, mcpServerFactory } from '../src/mcp/mcp-server.js';
import { modernHttp, servesDirectly } from '../src/mcp/modern-http.js';
import { classify, type McpRequest, type ModernPostHandler } from '../src/mcp/streamable-http.js';
import { tools } from '../src/tools/index.js';
import { defineTool } from '../src/tools/tool.js';
import { MODERN_VERSION, modernRequest, modernToolCall } from './helpers/mcp.js';

/*
 * The 2026-07-28 requests modern-http.ts serves without the SDK's HTTP entry must be answered exactly as the entry
 * answers them: the same sequence of requests goes to a handler with the direct lane and to one without it, and
 * every answer (status, headers, body bytes) must be the same.
 */

/** Notes with ids and times that do not depend on the run, so that two stores given the same calls answer alike. */
class CountingNotesStore implements NotesStore {
  private readonly notes: Note[] = [];
  private count = 0;

  async add(_accountId: string, text: string): Promise<Note> {
    const note = { id: `note-${++this.count}`, text, createdAt: Date.UTC(2026, 0, 1) };
    this.notes.push(note);
    return { ...note };
  }

  async list(): Promise<Note[]> {
    return this.notes.map((note) => ({ ...note }));
  }

  async delete(_accountId: string, id: string): Promise<boolean> {
    const index = this.notes.findIndex((note) => note.id === id);
    if (index >= 0) this.notes.splice(index, 1);
    return index >= 0;
  }

  async deleteAll(): Promise<void> {
    this.notes.length = 0;
  }
}

const auth = toAuthInfo({ accountId: 'account-1', username: 'alice', clientId: 'client1', clientName: 'An app', scopes: ['notes:read', 'notes:write'] },
  'token', Math.floor(Date.now() / 1000) + 600, 'http://localhost:3000/mcp');

const lane = (directLane: boolean): ModernPostHandler =>
  modernHttp(mcpServerFactory(tools, new CountingNotesStore(), pino({ level: 'silent' })), pino({ level: 'silent' }), { directLane }).serve;

interface Post {
  request: McpRequest;
  body: unknown;
}

/** A POST as a host sends it: the revision's headers named after the body, unless `headers` says otherwise. */
function post(message: { jsonrpc: string; id: number | string; method: string; params?: Record<string, unknown> }, headers: Record<string, string | undefined> = {}): Post {
  const name = message.params?.name;
  const all: Record<string, string | undefined> = {
    host: 'localhost:3000',
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': message.method,
    ...(typeof name === 'string' && { 'mcp-name': name }),
    ...headers,
  };
  const present = Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined)) as Record<string, string>;
  return { request: { url: 'http://localhost:3000/mcp', headers: present }, body: message };
}

/** What streamable-http.ts hands modern-http.ts for the POST. */
function routeOf({ request, body }: Post) {
  const route = classify(request, body);
  if (route.kind === 'legacy') throw new Error(`not a 2026-07-28 request: ${JSON.stringify(body)}`);
  return route;
}

const base64 = (text: string) => `=?base64?${Buffer.from(text).toString('base64')}?=`;

/** Requests the direct lane serves. */
const direct = [
  post(modernRequest('server/discover')),
  post(modernRequest('tools/list')),
  post(modernToolCall('whoami')),
  post(modernToolCall('notes_add', { text: 'first' })),
  post(modernToolCall('notes_add', { text: 'second' }), { 'content-type': 'application/json; charset=utf-8' }),
  post(modernToolCall('notes_list')),
  post(modernToolCall('notes_delete', { id: 'note-1' })),
  post(modernToolCall('notes_delete', { id: '00000000-0000-4000-8000-000000000000' })),
  // Refused by the tool's input schema or the tool registry: errors inside the answer, which dispatch produces.
  post(modernToolCall('notes_add', { text: '' })),
  post(modernToolCall('notes_add', { text: 42 })),
  post(modernToolCall('no_such_tool')),
  post({ ...modernToolCall('whoami'), id: 'a string id' }),
  post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami', _meta: modernRequest('x').params!._meta } }),
];

/** Requests the SDK's entry answers (refusals among them), interleaved with the others so both lanes share servers. */
const viaEntry = [
  // Dispatched by the entry: an Mcp-Name in the SDK's Base64 form, which it decodes first.
  post(modernToolCall('notes_add', { text: 'third' }), { 'mcp-name': base64('notes_add') }),
  post(modernToolCall('whoami'), { 'mcp-name': 'notes_list' }),
  post(modernToolCall('whoami'), { 'mcp-name': undefined }),
  post(modernRequest('tools/list'), { 'mcp-method': undefined }),
  post(modernRequest('tools/list'), { 'mcp-protocol-version': undefined }),
  post(modernRequest('tools/list'), { 'mcp-method': 'tools/call' }),
  post(modernRequest('tools/list'), { 'content-type': 'text/plain' }),
  post(modernRequest('ping')),
  post(modernRequest('initialize')),
  post(modernToolCall('whoami', { extra: true }), { 'mcp-name': 'WHOAMI' }),
];

describe('MCP endpoint: 2026-07-28 with and without the SDK\'s HTTP entry', () => {
  it('the direct lane takes only the requests it is meant to', () => {
    for (const post of direct) expect(servesDirectly(post.request, routeOf(post)), JSON.stringify(post.body)).to.equal(true);
    for (const post of viaEntry) expect(servesDirectly(post.request, routeOf(post)), JSON.stringify(post.body)).to.equal(false);
  });

  it('answers every request exactly as the SDK\'s entry does: status, headers and body', async () => {
    const [withDirectLane, entryOnly] = [lane(true), lane(false)];
    // Each handler gets its own copy of the body, as each would parse it off the wire.
    const answer = (serve: ModernPostHandler, post: Post): Promise<McpAnswer> => {
      const copy = { ...post, body: structuredClone(post.body) };
      return serve(copy.request, copy.body, auth, routeOf(copy));
    };
    const sequence = direct.flatMap((request, index) => [request, viaEntry[index]].filter((r) => r !== undefined));
    for (const request of [...sequence, ...sequence]) {
      const [ours, theirs] = [await answer(withDirectLane, request), await answer(entryOnly, request)];
      expect(typeof ours.body, JSON.stringify(request.body)).to.equal('string');
      expect(ours, JSON.stringify(request.body)).to.deep.equal(theirs);
    }
  });

  it('requests in flight at once each have a server of their own, whichever way they are served', async () => {
    const serve = lane(true);
    const posts = Array.from({ length: 24 }, (_, index) => post({ ...modernToolCall('whoami'), id: index },
      index % 3 ? {} : { 'mcp-name': base64('whoami') }));
    const answers = await Promise.all(posts.map((p) => serve(p.request, p.body, auth, routeOf(p))));
    answers.forEach((answer, index) => {
      expect(answer.status, String(answer.body)).to.equal(200);
      expect(JSON.parse(answer.body as string)).to.include({ id: index });
    });
  });

  it('our tools declare no x-mcp-header parameters; one that did would turn the direct lane off', () => {
    expect(tools.filter(declaresParamHeaders)).to.deep.equal([]);
    const regional = defineTool({
      name: 'regional', title: 'Regional', description: 'has a header parameter', scopes: [],
      inputSchema: z.object({ region: z.string().meta({ 'x-mcp-header': 'Region' }) }),
      async handler() {
        return { content: [] };
      },
    });
    expect(declaresParamHeaders(regional)).to.equal(true);
  });
});
