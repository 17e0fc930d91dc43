import { Writable } from 'node:stream';
import { expect } from 'chai';
import { StorageUnavailable } from '../adapters/errors.js';
import { classify } from '../adapters/redis/client.js';
import { createLogger } from '../src/log.js';

/*
 * What reaches the log when Redis answers with an error: ioredis errors carry the command's arguments (session ids in
 * key names, token records, password hashes as values), which must never be written out.
 */

/** An error as ioredis builds it for a reply error (a ReplyError with the command it answered). */
function replyError(message: string): Error {
  const err = Object.assign(new Error(message), { command: { name: 'hset', args: ['mcp-oauth:Session:{the-session-id}', 'payload', '{"accountId":"a","secret":"s3cr3t"}'] } });
  err.name = 'ReplyError';
  return err;
}

describe('secrets in logs: Redis errors', () => {
  it("logs the failed command's name, never its arguments", () => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
    log.error({ err: replyError('ERR something went wrong') }, 'storage failed');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include('"name":"hset"').and.include('ERR something went wrong');
    expect(lines[0]).to.not.include('the-session-id').and.not.include('s3cr3t');
  });

  it('a Redis at its maxmemory (OOM) is storage unavailable (503), not a bug (500)', () => {
    const oom = replyError("OOM command not allowed when used memory > 'maxmemory'.");
    expect(classify(oom)).to.be.instanceOf(StorageUnavailable);
    expect(classify(replyError('WRONGTYPE Operation against a key holding the wrong kind of value'))).to.not.be.instanceOf(StorageUnavailable);
  });
});
