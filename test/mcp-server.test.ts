import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { InMemoryTransport, type AuthInfo, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { StorageUnavailable } from '../adapters/errors.js';
import { MemoryNotesStore } from '../adapters/memory/notes.js';
import { toAuthInfo } from '../src/mcp/caller.js';
import { mcpServerFactory } from '../src/mcp/mcp-server.js';
import { tools } from '../src/tools/index.js';
import { defineTool, type Tool } from '../src/tools/tool.js';
import { expectToolError, toolCall, type ToolResult } from './helpers/mcp.js';

/*
 * The McpServer the endpoint builds, without HTTP: what a tool handler can rely on whatever reaches it
 * (its scopes, a known caller), and what a failing tool tells the model (nothing internal).
 */

const caller = (scopes: string[]) => toAuthInfo(
  { accountId: 'account-1', username: 'alice', clientId: 'client1', clientName: 'client1', scopes },
  'token', Math.floor(Date.now() / 1000) + 60, 'http://localhost:3000/mcp',
);

function failing(name: string, error: Error): Tool {
  return defineTool({
    name, title: name, description: `fails with ${error.name}`, inputSchema: z.object({}), scopes: [],
    async handler() {
      throw error;
    },
  });
}

describe('the MCP server (without HTTP)', () => {
  const logged: string[] = [];
  const log = pino({ level: 'error' }, new Writable({
    write(chunk, _encoding, done) {
      logged.push(String(chunk));
      done();
    },
  }));
  const extra = [failing('storage_down', new StorageUnavailable()), failing('buggy', new Error('internal detail: /srv/db password=hunter2'))];

  /** Sends one tools/call as the transport would, with `auth` as the validated token, and returns the result. */
  async function call(name: string, args: Record<string, unknown>, auth: AuthInfo | undefined): Promise<ToolResult> {
    const server = mcpServerFactory([...tools, ...extra], new MemoryNotesStore(), log)();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const answered = new Promise<JSONRPCMessage>((resolve) => {
      clientSide.onmessage = resolve;
    });
    await clientSide.start();
    await clientSide.send(toolCall(name, args) as JSONRPCMessage, { authInfo: auth });
    const answer = await answered as { result?: ToolResult };
    await server.close();
    return answer.result!;
  }

  it('a tool refuses to run for a token without its scopes, however the call reached it', async () => {
    expectToolError(await call('notes_add', { text: 'hi' }, caller(['notes:read'])), /needs the scope notes:write/);
    expect((await call('notes_add', { text: 'hi' }, caller(['notes:write']))).isError).to.equal(undefined);
  });

  it('a tool refuses to run without a validated caller', async () => {
    expectToolError(await call('whoami', {}, undefined), /could not tell who is calling/);
  });

  it('storage unavailable → a tool error saying to try again', async () => {
    expectToolError(await call('storage_down', {}, caller([])), /try again/);
  });

  it('any other failure → a generic tool error; the detail goes to the log only', async () => {
    const result = await call('buggy', {}, caller([]));
    expectToolError(result, /problem on the server/);
    expect(JSON.stringify(result)).to.not.include('hunter2');
    expect(logged.join('')).to.include('hunter2').and.include('"tool":"buggy"');
  });
});
