import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { useTestServer } from './helpers/server.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the README walk-through', () => {
  const server = useTestServer();

  it('runs as pasted (only the port differs)', async () => {
    const block = README.match(/<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/)?.[1];
    expect(block, 'the README has a marked walk-through').to.be.a('string');
    const script = block!.replaceAll('http://localhost:3000', server.url);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: mkdtempSync(join(tmpdir(), 'walkthrough-')),
      timeout: 15000,
    });
    expect(stdout).to.include('{"message":"Registration successful","userId":"');
    expect(stdout).to.include('{"message":"Login successful"}');
    expect(stdout).to.match(new RegExp(`${server.url}/callback\\?code=[\\w-]+&state=random_state&iss=`));
    const jsonLines = [...stdout.matchAll(/\{[^{}]*\}/g)].map((m) => JSON.parse(m[0]));
    const userinfo = jsonLines.find((j) => j.username);
    expect(userinfo).to.include({ username: 'testuser' });
    expect(userinfo.id).to.equal(userinfo.sub);
    const tokenResponses = jsonLines.filter((j) => j.access_token);
    expect(tokenResponses).to.have.length(2);
    for (const t of tokenResponses) expect(t).to.include({ token_type: 'Bearer', expires_in: 3600 });
  });
});
