import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse } from 'dotenv';
import { loadConfig } from '../config/env.js';
import { freePort } from './helpers/redis.js';
import { authorizeCode, exchangeCode, loggedInBrowser } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../scripts/compose-env.sh', import.meta.url));
const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.sentinel.yml'];

/** Runs scripts/compose-env.sh on `file`; what it printed. */
async function writeSecrets(file: string): Promise<string> {
  return (await run('sh', [SCRIPT, file])).stdout;
}

describe('docker compose: the secrets in .env (scripts/compose-env.sh)', () => {
  let dir: string;
  let env: Record<string, string>;
  let server: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'compose-env-'));
    await writeSecrets(join(dir, '.env'));
    env = parse(readFileSync(join(dir, '.env')));
    // The compose file's own values beside the secrets (its Redis aside, which this in-memory server does without).
    server = await startTestServer({ ...env, TRUST_PROXY: 'false' });
  });
  after(() => server?.close());

  it('writes CLIENT1_SECRET, COOKIE_KEYS and METRICS_TOKEN, readable by its owner only, that the production server accepts', () => {
    expect(Object.keys(env)).to.deep.equal(['CLIENT1_SECRET', 'COOKIE_KEYS', 'METRICS_TOKEN']);
    expect(statSync(join(dir, '.env')).mode & 0o777).to.equal(0o600);
    const config = loadConfig({ ...env, NODE_ENV: 'production', REDIS_URL: 'redis://redis:6379' });
    expect(config.usesDevDefaults).to.deep.include({ client1Secret: false, cookieKeys: false });
    expect(config.metricsToken).to.equal(env.METRICS_TOKEN);
  });

  it('run again, or on an older .env, keeps every value the file has and adds only what it lacks', async () => {
    const file = join(dir, '.env');
    const before = readFileSync(file, 'utf8');
    expect(await writeSecrets(file)).to.not.include('added');
    expect(readFileSync(file, 'utf8')).to.equal(before);

    const older = join(dir, 'older.env');
    writeFileSync(older, 'CLIENT1_SECRET=kept-secret-123\nISSUER=https://auth.example.com', { mode: 0o644 });
    expect(await writeSecrets(older)).to.include('added COOKIE_KEYS METRICS_TOKEN');
    const updated = parse(readFileSync(older));
    expect(updated).to.include({ CLIENT1_SECRET: 'kept-secret-123', ISSUER: 'https://auth.example.com' });
    expect(updated.COOKIE_KEYS).to.match(/^[0-9a-f]{64}$/);
    expect(statSync(older).mode & 0o777, 'secrets now in it').to.equal(0o600);
  });

  it('client1 signs in with the secret read back as the README says, and no longer with the development one', async () => {
    const { stdout } = await run('sh', ['-c', 'grep CLIENT1_SECRET .env'], { cwd: dir });
    const secret = stdout.trim().replace(/^CLIENT1_SECRET=/, '');
    const { browser } = await loggedInBrowser(server.url);
    const refused = await exchangeCode(server.url, (await authorizeCode(browser)).code);
    expect(refused.status).to.equal(401);
    const accepted = await exchangeCode(server.url, (await authorizeCode(browser)).code, { client_secret: secret });
    expect(accepted.status).to.equal(200);
  });

  it('/metrics answers only the token: not a caller on a private address, as Docker\'s bridge gateway is to a published port', async () => {
    // The caller is on loopback here: an address the default rule trusts, like 172.17.0.1 behind a published port.
    const hidden = await fetch(`${server.url}/metrics`);
    expect(hidden.status).to.equal(404);
    expect(await hidden.json()).to.deep.equal({ error: 'not_found', error_description: 'no such endpoint: GET /metrics' });
    const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN}` } });
    expect(scraped.status).to.equal(200);
    expect(await scraped.text()).to.match(/^process_resident_memory_bytes \d+/m);
  });
});

describe('docker compose: the app\'s health check', () => {
  /** The `node -e` script of the app's healthcheck in a compose file. */
  function healthScript(file: string): string {
    const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    const test = /^ {6}test: (\["CMD", "node", .*\])$/m.exec(text)?.[1];
    expect(test, `${file}: the app's healthcheck runs node`).to.be.a('string');
    const [, , flag, script] = JSON.parse(test!) as string[];
    expect(flag).to.equal('-e');
    return script!;
  }

  /** The health check's exit code against the server on `port`, run as Docker runs it in the container. */
  async function check(script: string, port: number): Promise<number> {
    try {
      await run(process.execPath, ['-e', script], { env: { PORT: String(port) }, timeout: 3000 });
      return 0;
    } catch (err) {
      return (err as { code: number }).code;
    }
  }

  let ready: TestServer;
  let storageAway: TestServer;
  before(async () => {
    ready = await startTestServer();
    storageAway = await startTestServer({}, { wrapStores: (stores) => ({ ...stores, ping: async () => false }) });
  });
  after(async () => {
    await ready?.close();
    await storageAway?.close();
  });

  for (const file of COMPOSE_FILES) {
    it(`${file}: healthy while /readyz answers 200; unhealthy while storage does not answer, and when nothing listens`, async () => {
      const script = healthScript(file);
      expect(script).to.include('/readyz');
      expect(await check(script, Number(new URL(ready.url).port))).to.equal(0);
      expect(await check(script, Number(new URL(storageAway.url).port))).to.equal(1);
      expect(await check(script, await freePort())).to.equal(1);
    });
  }
});
