import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface Started {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `npm start` as a newcomer runs it: a separate process, configured only by its environment (and .env). */
function launch(env: Record<string, string>, cwd = process.cwd()): Started {
  const child = spawn(process.execPath, ['--import', TSX, SERVER], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, stderr: () => err, exited };
}

async function listening(started: Started): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = started.lines.find((l) => l.includes('listening on'));
    if (line) return (JSON.parse(line) as { msg: string }).msg.match(/issuer (\S+)/)![1]!;
    if (started.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not start: ${started.stderr()}`);
}

describe('starting the server process', function () {
  this.timeout(30000);

  it('starts in memory, says so in one log line, serves the seed endpoints and stops cleanly on SIGTERM', async () => {
    const started = launch({ PORT: '0' });
    const issuer = await listening(started);
    expect(issuer).to.match(/^http:\/\/localhost:\d+$/);
    const storage = started.lines.filter((l) => /in memory/.test(l));
    expect(storage).to.have.length(1);
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect((await discovery.json()).issuer).to.equal(issuer);
    started.child.kill('SIGTERM');
    expect(await started.exited).to.equal(0);
  });

  it('on SIGTERM, a request already in flight still gets its answer before the process exits 0', async () => {
    const started = launch({ PORT: '0' });
    const issuer = await listening(started);
    const { port } = new URL(issuer);
    // A registration whose body is still arriving when the signal comes.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/oauth/register', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write('{"username":"shutdown-user",');
      setTimeout(() => {
        started.child.kill('SIGTERM');
        setTimeout(() => req.end('"password":"password123"}'), 300);
      }, 200);
    });
    const { status, body } = await answer;
    expect(status).to.equal(201);
    expect(JSON.parse(body).message).to.equal('Registration successful');
    expect(await started.exited).to.equal(0);
    expect(started.lines.join('\n')).to.include('SIGTERM: shutting down');
  });

  it('reads a .env file from the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    writeFileSync(join(dir, '.env'), 'PORT=0\nISSUER=http://localhost:4999\n');
    const started = launch({}, dir);
    expect(await listening(started)).to.equal('http://localhost:4999');
    started.child.kill('SIGTERM');
    await started.exited;
  });

  it('refuses to start in production on development defaults, naming each variable to set', async () => {
    const started = launch({ NODE_ENV: 'production', PORT: '0' });
    expect(await started.exited).to.equal(1);
    const err = started.stderr();
    for (const name of ['CLIENT1_SECRET', 'COOKIE_KEYS', 'JWKS']) expect(err).to.include(`set ${name}`);
    expect(err).to.not.match(/\n\s+at /, 'no stack trace');
  });

  it('refuses a bad value with one clear line and no stack trace', async () => {
    const started = launch({ PORT: 'eighty' });
    expect(await started.exited).to.equal(1);
    expect(started.stderr()).to.include('PORT: must be a number').and.not.match(/\n\s+at /);
  });

  it('says so clearly when the port is taken', async () => {
    const first = launch({ PORT: '0' });
    const port = new URL(await listening(first)).port;
    const second = launch({ PORT: port });
    expect(await second.exited).to.equal(1);
    expect(second.lines.join('\n')).to.include(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    first.child.kill('SIGTERM');
    await first.exited;
  });
});
