import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse as parseDotenv } from 'dotenv';
import { Redis } from 'ioredis';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { RedisAccountStore } from '../adapters/redis/accounts.js';
import { loadConfig } from '../config/env.js';
import { expectOAuthError, STACK_TRACE } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { ADMIN_ENTRY, CliProcess, cliHome, type CliResult } from './helpers/cli.js';
import { callTool, mcpPost, mcpToken, toolCall } from './helpers/mcp.js';
import { freePort, keysUnder, requireRedis, uniquePrefix } from './helpers/redis.js';
import { authorizeCode, authorizeUrl, exchangeCode, form, json, loggedInBrowser, registerUser, uniqueName, type Tokens } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { authorize, connect, interactionPage, refresh, registerHost, signInThere } from './helpers/third-party.js';

/**
 * mcp-oauth-admin (issue 14), driven as an operator drives it: a child process with the server's configuration,
 * acting on the storage of two running server instances behind one issuer, whose effects are checked over HTTP (on
 * the instance that did not serve the request, whose token cache must hear of every revocation) and in Redis.
 */
describe('the mcp-oauth-admin command line', function () {
  this.timeout(60_000);
  const redis = requireRedis();
  const prefix = uniquePrefix();
  const home = cliHome();
  const servers: TestServer[] = [];
  let env: Record<string, string>;
  /** The public URL of both instances; instance A listens there. */
  let issuer: string;
  /** Instance B, reached at its own address. */
  let baseB: string;
  let client: Redis;
  /** A command that waits for a Redis that never answers: started first, so that its wait overlaps the tests. */
  let unreachable: Promise<CliResult>;

  const run = (environment: Record<string, string>, ...args: string[]): Promise<CliResult> => {
    const admin = new CliProcess(args, environment, home, 30_000, { entry: ADMIN_ENTRY });
    admin.endInput();
    return admin.done;
  };
  const admin = (...args: string[]) => run(env, ...args);
  /** The command on a terminal of its own, to be answered as an operator would. */
  const onTerminal = (...args: string[]) => new CliProcess(args, env, home, 30_000, { entry: ADMIN_ENTRY, terminal: true });

  before(async () => {
    unreachable = run({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: prefix }, 'users', 'list');
    env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix };
    const [portA, portB] = [await freePort(), await freePort()];
    issuer = `http://localhost:${portA}`;
    servers.push(await startTestServer({ ...env, ISSUER: issuer, PORT: String(portA) }));
    servers.push(await startTestServer({ ...env, ISSUER: issuer, PORT: String(portB), MCP_ALLOWED_HOSTS: `127.0.0.1:${portB}` }));
    baseB = `http://127.0.0.1:${portB}`;
    client = new Redis(redis.url);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    if (client) {
      await Promise.all((await keysUnder(client, prefix)).map((key) => client.del(`${prefix}${key}`)));
      await client.quit();
    }
    // Only this suite's home: the other suites' homes were made when their files were loaded, before any ran.
    rmSync(home.dir, { recursive: true, force: true });
  });

  /** stderr as the operator reads it, without the warning oidc-provider prints on Node releases before 22. */
  const stderrLines = (result: CliResult) => result.stderr.split('\n')
    .filter((line) => line && !line.startsWith('oidc-provider WARNING: Unsupported runtime'));

  function expectSuccess(result: CliResult): void {
    expect(result.code, result.stderr).to.equal(0);
    expect(stderrLines(result)).to.deep.equal([]);
  }

  /** A failure: the exit code, and one sentence on stderr, without a stack trace. */
  function expectFailure(result: CliResult, exitCode: number, message: RegExp): void {
    expect(result.code, result.stdout + result.stderr).to.equal(exitCode);
    const lines = stderrLines(result);
    expect(lines, 'one line on stderr').to.have.length(1);
    expect(lines[0]).to.match(/^mcp-oauth-admin: /);
    expect(lines[0]).to.match(message);
    expect(result.stderr).to.not.match(STACK_TRACE);
    expect(result.stdout).to.equal('');
  }

  const outputJson = (result: CliResult) => {
    expectSuccess(result);
    return JSON.parse(result.stdout);
  };

  const login = (username: string, password: string) => fetch(`${issuer}/oauth/login`, json({ username, password }));

  /** The token works on B, which caches it from then on. */
  const cachedOnB = async (token: string) => {
    expect((await callTool(baseB, token, 'whoami')).isError).to.equal(undefined);
  };

  /** B refuses the token within a second: the revocation reached its cache through Redis. */
  async function refusedOnB(token: string): Promise<void> {
    const start = Date.now();
    let res = await mcpPost(baseB, token, toolCall('whoami'));
    while (res.status === 200 && Date.now() - start < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      res = await mcpPost(baseB, token, toolCall('whoami'));
    }
    await expectOAuthError(res, 401, 'invalid_token');
  }

  const refreshClient1 = (refreshToken: string) => fetch(`${issuer}/oauth/token`, form({
    grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'client1', client_secret: 'secret1',
  }));

  async function expectRefreshRefused(res: Response): Promise<void> {
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.be.oneOf([400, 401]);
    expect(body.error).to.be.oneOf(['invalid_grant', 'invalid_client']);
  }

  /** Where a browser lands when it asks client1's authorization: the login page if it is signed out. */
  const signedOut = async (browser: Browser) => (await browser.follow(authorizeUrl(issuer))).url.pathname.startsWith('/interaction/');

  /** The records (hashes with a payload) under the prefix, and every key's name. */
  async function stored(): Promise<{ keys: string[]; payloads: Record<string, unknown>[] }> {
    const keys = await keysUnder(client, prefix);
    const payloads = await Promise.all(keys.map(async (key) => {
      if ((await client.type(`${prefix}${key}`)) !== 'hash') return undefined;
      const payload = await client.hget(`${prefix}${key}`, 'payload');
      return payload ? JSON.parse(payload) as Record<string, unknown> : undefined;
    }));
    return { keys, payloads: payloads.filter((payload) => payload !== undefined) };
  }

  describe('users', () => {
    it('create: the user signs in over HTTP; --json gives the user', async () => {
      const [first, second] = [uniqueName('op'), uniqueName('op')];
      const [created, human] = await Promise.all([
        admin('users', 'create', first, '--password', 'correct horse', '--json'),
        admin('users', 'create', second, '--password', 'password123'),
      ]);
      const user = outputJson(created);
      expect(user).to.have.all.keys('username', 'id', 'createdAt', 'disabled');
      expect(user).to.include({ username: first, disabled: false });
      expect(user.id).to.match(/^[0-9a-f-]{36}$/);
      expect(Date.now() - Date.parse(user.createdAt)).to.be.within(0, 60_000);
      expectSuccess(human);
      expect(human.stdout).to.match(new RegExp(`^Created the user ${second} \\(user id [0-9a-f-]{36}\\)\\.\\n$`));
      expect((await login(first, 'correct horse')).status).to.equal(200);
      expect((await login(second, 'password123')).status).to.equal(200);
    });

    it('create refuses a taken name (1), a bad name or password (2), no password without a terminal (2), and creates nothing', async () => {
      const { username } = await registerUser(issuer);
      const fresh = uniqueName('op');
      const [taken, badName, badPassword, noPassword] = await Promise.all([
        admin('users', 'create', username.toUpperCase(), '--password', 'password123'),
        admin('users', 'create', 'a b', '--password', 'password123'),
        admin('users', 'create', fresh, '--password', 'short'),
        admin('users', 'create', fresh),
      ]);
      expectFailure(taken, 1, new RegExp(`The username ${username.toUpperCase()} is already taken; nothing was changed\\.$`));
      expectFailure(badName, 2, /The username must be 3 to 64 characters: letters, digits, "\.", "_" or "-"; nothing was changed\.$/);
      expectFailure(badPassword, 2, /The password must be 8 to 1024 bytes; nothing was changed\.$/);
      expectFailure(noPassword, 2, /users create needs --password <password>, since stdin is not a terminal to ask for it on\.$/);
      await expectOAuthError(await login(fresh, 'short'), 401, 'invalid_credentials');
    });

    it('takes a username or client id that starts with "-" as the argument it is, and a password that does as a value', async () => {
      const dashed = `-${uniqueName('op')}`;
      expectSuccess(await admin('users', 'create', dashed, '--password', '-correct horse'));
      expect((await login(dashed, '-correct horse')).status).to.equal(200);
      expect(outputJson(await admin('users', 'show', dashed, '--json'))).to.include({ username: dashed });
      expect(outputJson(await admin('users', 'disable', '-y', '--json', '--', dashed))).to.include({ username: dashed, disabled: true });
      expectFailure(await admin('clients', 'show', '-dNoSuchClient'), 3, /There is no client/);
    });

    it('list and show: id, creation, status and last sign-in; show adds the browser sessions, apps and notes', async () => {
      const { user, token } = await mcpToken(issuer);
      await callTool(issuer, token, 'notes_add', { text: 'a note' });
      const [listed, shown, human, humanShow] = await Promise.all([
        admin('users', 'list', '--json'), admin('users', 'show', user.username, '--json'),
        admin('users', 'list'), admin('users', 'show', user.username.toUpperCase()),
      ]);
      const entry = outputJson(listed).find((u: { username: string }) => u.username === user.username);
      expect(entry).to.have.all.keys('username', 'id', 'createdAt', 'disabled', 'lastLoginAt');
      expect(entry).to.include({ id: user.userId, disabled: false });
      expect(Date.now() - Date.parse(entry.lastLoginAt)).to.be.within(0, 60_000);

      const details = outputJson(shown);
      expect(details).to.include({ username: user.username, id: user.userId, disabled: false, notes: 1 });
      expect(details.sessions).to.have.length(1);
      expect(details.sessions[0]).to.have.all.keys('signedInAt', 'expiresAt', 'clients');
      expect(details.sessions[0].clients).to.deep.equal(['client1']);
      expect(details.grants).to.have.length(1);
      expect(details.grants[0]).to.include({ clientId: 'client1' });
      expect(details.grants[0].scopes).to.include.members(['notes:read', 'notes:write']);
      expect(Date.parse(details.grants[0].expiresAt)).to.be.above(Date.now());

      expectSuccess(human);
      const lines = human.stdout.trim().split('\n');
      expect(lines[0]).to.match(/^USERNAME +USER ID +CREATED +STATUS +LAST SIGN-IN$/);
      expect(lines.find((line) => line.startsWith(`${user.username} `))).to.match(new RegExp(`^${user.username} +${user.userId} +\\S+Z +active +\\S+Z$`));
      expectSuccess(humanShow);
      expect(humanShow.stdout).to.match(new RegExp(`^Username: +${user.username}$`, 'm'));
      expect(humanShow.stdout).to.match(/^Status: +active$/m).and.match(/^Notes: +1$/m).and.match(/^Browser sessions: +1$/m);
      expect(humanShow.stdout).to.match(/^ {2}client1: .*notes:read.* \(allowed \S+Z, until \S+Z\)$/m);
    });

    it('disable: sign-ins refused everywhere with a clear message, its session signed out, its tokens dead on every instance; enable undoes it', async () => {
      const { browser, user, tokens, token } = await mcpToken(issuer);
      await cachedOnB(token);
      const disabled = await admin('users', 'disable', user.username, '--yes');
      expectSuccess(disabled);
      expect(disabled.stdout).to.equal(`Disabled ${user.username}: sign-ins are refused; ended 1 browser session and revoked 1 app grant with their tokens.\n`);

      await refusedOnB(token);
      await expectRefreshRefused(await refreshClient1(tokens.refresh_token));
      expect(await signedOut(browser), 'the old session is signed out').to.equal(true);
      const refused = await expectOAuthError(await login(user.username, user.password), 403, 'account_disabled');
      expect(refused.error_description).to.match(/disabled/);
      expect((await login(user.username, 'wrong password')).status, 'a wrong password is just wrong').to.equal(401);

      // The login page of an authorization, and the /account page's sign-in form.
      const fresh = new Browser(issuer);
      const page = await signInThere(fresh, await fresh.follow(authorizeUrl(issuer)), user);
      expect(page.res.status).to.equal(403);
      expect(await page.res.text()).to.include('This account is disabled. Ask the operator of this server to enable it.');
      const account = new Browser(issuer);
      const signIn = await account.submit(await (await account.fetch('/account')).text(), '/account/sign-in', { username: user.username, password: user.password });
      expect(signIn.res.status).to.equal(403);
      expect(await signIn.res.text()).to.include('This account is disabled.');

      const shown = outputJson(await admin('users', 'show', user.username, '--json'));
      expect(shown.disabled).to.equal(true);
      expect(Date.now() - Date.parse(shown.disabledAt)).to.be.within(0, 60_000);
      expect(shown.sessions).to.deep.equal([]);
      expect(shown.grants).to.deep.equal([]);

      const enabled = await admin('users', 'enable', user.username);
      expectSuccess(enabled);
      expect(enabled.stdout).to.equal(`Enabled ${user.username}: they can sign in again.\n`);
      expect((await login(user.username, user.password)).status).to.equal(200);
    });

    it("the checks behind disable: a disabled account's surviving session and tokens are refused, whoever set the flag", async () => {
      const { browser, user, tokens, token } = await mcpToken(issuer);
      // Only the flag, as another instance or a deletion half-way would leave it: the session and grant still exist.
      expect(await new RedisAccountStore(client, prefix).update(user.userId, { disabledAt: Date.now() })).to.equal(true);
      await expectOAuthError(await mcpPost(baseB, token, toolCall('whoami')), 401, 'invalid_token');
      await expectRefreshRefused(await refreshClient1(tokens.refresh_token));
      expect(await (await browser.fetch('/account')).text(), 'the /account page asks to sign in').to.include('/account/sign-in');
      // The authorization asks to sign in again, where the user is told the account is disabled.
      const page = await signInThere(browser, await browser.follow(authorizeUrl(issuer)), user);
      expect(page.res.status).to.equal(403);
      expect(await page.res.text()).to.include('This account is disabled.');
    });

    it('reset-password: the old password is refused, the new one works, and every session and token of the user ended', async () => {
      const { browser, user, token } = await mcpToken(issuer);
      await cachedOnB(token);
      const reset = outputJson(await admin('users', 'reset-password', user.username, '--password', 'a new password', '--yes', '--json'));
      expect(reset).to.include({ username: user.username, id: user.userId, sessionsEnded: 1, grantsRevoked: 1 });
      await refusedOnB(token);
      expect(await signedOut(browser)).to.equal(true);
      await expectOAuthError(await login(user.username, user.password), 401, 'invalid_credentials');
      expect((await login(user.username, 'a new password')).status).to.equal(200);
      expectFailure(await admin('users', 'reset-password', user.username, '--password', 'short', '--yes'), 2, /The password must be 8 to 1024 bytes/);
      expect((await login(user.username, 'a new password')).status, 'a refused reset changes nothing').to.equal(200);
    });

    it("delete: the account, notes, grants, tokens, consents and sessions are gone, over HTTP and in Redis, and the name is free", async () => {
      const { browser, user, tokens, token } = await mcpToken(issuer);
      await callTool(issuer, token, 'notes_add', { text: 'a secret note' });
      const host = await registerHost(issuer);
      const { tokens: hostTokens } = await connect(browser, host, user);
      await cachedOnB(token);
      await cachedOnB(hostTokens.access_token);
      const mine = (data: Awaited<ReturnType<typeof stored>>) => ({
        keys: data.keys.filter((key) => key.includes(user.userId) || key.includes(`{${user.username.toLowerCase()}}`)),
        records: data.payloads.filter((payload) => payload.accountId === user.userId),
      });
      const before = mine(await stored());
      expect(before.keys.map((key) => key.replace(/:\{.*$/, '')).sort())
        .to.include.members(['account', 'account-id', 'account-records', 'consents', 'notes', 'notes-seq']);
      expect(before.records.map((record) => record.kind)).to.include.members(['Session', 'Grant', 'AccessToken', 'RefreshToken']);

      const deleted = outputJson(await admin('users', 'delete', user.username, '--yes', '--json'));
      expect(deleted).to.deep.equal({ username: user.username, id: user.userId, deleted: true, notesDeleted: 1, sessionsEnded: 1, grantsRevoked: 2 });

      await refusedOnB(token);
      await refusedOnB(hostTokens.access_token);
      await expectRefreshRefused(await refreshClient1(tokens.refresh_token));
      await expectRefreshRefused(await refresh(issuer, host, hostTokens.refresh_token));
      expect(await signedOut(browser)).to.equal(true);
      await expectOAuthError(await login(user.username, user.password), 401, 'invalid_credentials');
      expect(mine(await stored())).to.deep.equal({ keys: [], records: [] });
      expectFailure(await admin('users', 'show', user.username), 3, /There is no user/);
      const again = await fetch(`${issuer}/oauth/register`, json({ username: user.username, password: 'password123' }));
      expect(again.status, 'the username is free again').to.equal(201);
      expect((await again.json()).userId).to.not.equal(user.userId);
    });
  });

  describe('clients', () => {
    /** A self-registered host that two users allowed, each with tokens that B has cached. */
    async function hostWithTwoUsers(name = uniqueName('Notes App ')) {
      const host = await registerHost(issuer, name);
      const users = await Promise.all([loggedInBrowser(issuer), loggedInBrowser(issuer)]);
      const tokens = await Promise.all(users.map(async ({ browser, user }) => (await connect(browser, host, user)).tokens));
      for (const t of tokens) await cachedOnB(t.access_token);
      return { host, users, tokens };
    }

    it('list: the configured clients, marked, then the self-registered ones, with how many users each has', async () => {
      const { host } = await hostWithTwoUsers();
      const [listed, human] = await Promise.all([admin('clients', 'list', '--json'), admin('clients', 'list')]);
      const clients = outputJson(listed);
      expect(clients.slice(0, 2).map((c: { clientId: string }) => c.clientId)).to.deep.equal(['client1', 'mcp-cli']);
      expect(clients[0]).to.include({ name: 'client1', kind: 'static', firstParty: true });
      expect(clients[1]).to.include({ name: 'mcp-oauth command line', kind: 'static', firstParty: true });
      const registered = clients.find((c: { clientId: string }) => c.clientId === host.clientId);
      expect(registered).to.have.all.keys('clientId', 'name', 'kind', 'firstParty', 'createdAt', 'grants');
      expect(registered).to.include({ name: host.name, kind: 'registered', firstParty: false, grants: 2 });
      expect(Date.now() - Date.parse(registered.createdAt)).to.be.within(0, 60_000);
      expectSuccess(human);
      expect(human.stdout.split('\n')[0]).to.match(/^CLIENT ID +NAME +KIND +REGISTERED +USERS$/);
      expect(human.stdout).to.match(/^client1 +client1 +configured, first-party +- +\d+$/m);
      expect(human.stdout).to.match(new RegExp(`^${host.clientId} +${host.name} +registered +\\S+Z +2$`, 'm'));
    });

    it('show: the metadata, when it expires unused, and the users who allowed it; unknown ids are 3', async () => {
      const { host, users } = await hostWithTwoUsers();
      const [shown, human, unknown] = await Promise.all([
        admin('clients', 'show', host.clientId, '--json'), admin('clients', 'show', host.clientId), admin('clients', 'show', 'no-such-client'),
      ]);
      const details = outputJson(shown);
      expect(details).to.include({ clientId: host.clientId, name: host.name, kind: 'registered', grants: 2, tokenEndpointAuthMethod: 'none' });
      expect(details.redirectUris).to.deep.equal([host.redirectUri]);
      expect(Date.parse(details.expiresIfUnusedAt) - Date.now()).to.be.within(29 * 86_400_000, 30 * 86_400_000 + 60_000);
      expect(details.users.map((u: { username: string }) => u.username).sort()).to.deep.equal(users.map((u) => u.user.username).sort());
      expect(details.users[0].scopes).to.include.members(['notes:read', 'notes:write']);
      expectSuccess(human);
      expect(human.stdout).to.match(/^Kind: +registered$/m).and.match(/^Users: +2$/m);
      for (const { user } of users) expect(human.stdout).to.match(new RegExp(`^ {2}${user.username}: notes:`, 'm'));
      expectFailure(unknown, 3, /There is no client no-such-client\.$/);
    });

    it('revoke: every grant and token of the app ends for every user, on every instance, and each must allow it again', async () => {
      const { host, users, tokens } = await hostWithTwoUsers();
      const revoked = await admin('clients', 'revoke', host.clientId, '--yes');
      expectSuccess(revoked);
      expect(revoked.stdout).to.equal(`Revoked 2 grants of ${host.name} (${host.clientId}) with every token issued under them.\n`);
      for (const t of tokens) {
        await refusedOnB(t.access_token);
        await expectRefreshRefused(await refresh(issuer, host, t.refresh_token));
      }
      // The consent was forgotten: the same browser is asked again.
      const again = await authorize(users[0]!.browser, host);
      expect((await interactionPage(again)).html).to.match(/action="[^"]*\/consent"/);
      const shown = outputJson(await admin('clients', 'show', host.clientId, '--json'));
      expect(shown).to.include({ grants: 0 });
      expect(shown.users).to.deep.equal([]);
      expect((await callTool(issuer, (await mcpToken(issuer)).token, 'whoami')).isError, 'other apps go on').to.equal(undefined);
    });

    it('delete: the self-registered client and its tokens are gone on every instance; configured clients are refused', async () => {
      const { host, tokens } = await hostWithTwoUsers();
      const deleted = outputJson(await admin('clients', 'delete', host.clientId, '--yes', '--json'));
      expect(deleted).to.deep.equal({ clientId: host.clientId, name: host.name, deleted: true, grantsRevoked: 2 });
      for (const t of tokens) {
        await refusedOnB(t.access_token);
        await expectRefreshRefused(await refresh(issuer, host, t.refresh_token));
      }
      const { keys, payloads } = await stored();
      expect(keys.filter((key) => key.includes(host.clientId))).to.deep.equal([]);
      expect(payloads.filter((payload) => payload.clientId === host.clientId || payload.client_id === host.clientId)).to.deep.equal([]);
      const [gone, configured, unknown, unknownRevoke] = await Promise.all([
        admin('clients', 'show', host.clientId), admin('clients', 'delete', 'client1', '--yes'),
        admin('clients', 'delete', 'no-such-client', '--yes'), admin('clients', 'revoke', 'no-such-client', '--yes'),
      ]);
      expectFailure(gone, 3, /There is no client/);
      expectFailure(configured, 1, /client1 is configured in the server's environment, not registered, so it cannot be deleted; `clients revoke client1` ends its users' access\.$/);
      expectFailure(unknown, 3, /There is no client no-such-client\.$/);
      expectFailure(unknownRevoke, 3, /There is no client no-such-client\.$/);
      expect((await fetch(`${issuer}/oauth/login`, json({ username: 'x', password: 'y' }))).status, 'the server goes on').to.equal(401);
    });
  });

  describe('sessions revoke', () => {
    it("ends every browser session of the user as signing out would: the sign-in tokens tied to them end, apps' access goes on", async () => {
      const { browser, user } = await loggedInBrowser(issuer);
      const other = new Browser(issuer);
      expect((await other.fetch('/oauth/login', json({ username: user.username, password: user.password }))).status).to.equal(200);
      const { code } = await authorizeCode(browser);
      const client1Tokens = await (await exchangeCode(issuer, code)).json() as Tokens;
      const host = await registerHost(issuer);
      const { tokens: hostTokens } = await connect(browser, host, user);

      const ended = await admin('sessions', 'revoke', '--user', user.username, '--yes');
      expectSuccess(ended);
      expect(ended.stdout).to.equal(`Ended 2 browser sessions of ${user.username} and revoked the 1 grant tied to them.\n`);
      expect(await signedOut(browser)).to.equal(true);
      expect(await signedOut(other)).to.equal(true);
      await expectRefreshRefused(await refreshClient1(client1Tokens.refresh_token));
      expect((await refresh(issuer, host, hostTokens.refresh_token)).status, "the app's access goes on").to.equal(200);
      expect((await login(user.username, user.password)).status, 'the user may sign in again').to.equal(200);
      const none = outputJson(await admin('sessions', 'revoke', '--user', user.username, '--yes', '--json'));
      expect(none).to.deep.equal({ username: user.username, id: user.userId, sessionsEnded: 1, grantsRevoked: 0 });
    });
  });

  describe('stats', () => {
    it('counts users (and the disabled ones), self-registered clients and active grants', async () => {
      const before = outputJson(await admin('stats', '--json'));
      expect(before).to.have.all.keys('users', 'disabledUsers', 'registeredClients', 'activeGrants');
      const host = await registerHost(issuer);
      const { browser, user } = await loggedInBrowser(issuer);
      await connect(browser, host, user);
      const { username } = await registerUser(issuer);
      expectSuccess(await admin('users', 'disable', username, '--yes'));
      const [after, human] = await Promise.all([admin('stats', '--json'), admin('stats')]);
      expect(outputJson(after)).to.deep.equal({
        users: before.users + 2, disabledUsers: before.disabledUsers + 1,
        registeredClients: before.registeredClients + 1, activeGrants: before.activeGrants + 1,
      });
      expectSuccess(human);
      expect(human.stdout).to.match(new RegExp(`^Users: +${before.users + 2} \\(${before.disabledUsers + 1} disabled\\)$`, 'm'));
      expect(human.stdout).to.match(/^Registered clients: +\d+$/m).and.match(/^Active grants: +\d+$/m);
      expect(human.stdout).to.include(`key prefix "${prefix}"`);
    });
  });

  describe('keys generate', () => {
    it("prints JWKS and COOKIE_KEYS lines the server's configuration accepts, without any storage; a server signs with them", async () => {
      const human = await run({}, 'keys', 'generate');
      expectSuccess(human);
      const variables = parseDotenv(human.stdout);
      expect(Object.keys(variables)).to.deep.equal(['JWKS', 'COOKIE_KEYS']);
      const config = loadConfig({ ...variables, NODE_ENV: 'production', CLIENT1_SECRET: 'a-production-secret' });
      expect(config.jwks!.keys).to.have.length(1);
      expect(config.jwks!.keys[0]).to.include({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(config.cookieKeys).to.have.length(1);

      const server = await startTestServer(variables);
      try {
        const { browser } = await loggedInBrowser(server.url);
        const { code } = await authorizeCode(browser, { scope: 'openid' });
        const tokens = await (await exchangeCode(server.url, code)).json() as Tokens;
        expect(decodeProtectedHeader(tokens.id_token!).kid).to.equal(config.jwks!.keys[0]!.kid);
        await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`)), { issuer: server.url, audience: 'client1' });
      } finally {
        await server.close();
      }
    });

    it('--json: the private JWKS and the cookie keys, fresh each time', async () => {
      const [first, second] = await Promise.all([run({}, 'keys', 'generate', '--json'), run({}, 'keys', 'generate', '--json')]);
      const keys = outputJson(first);
      expect(keys).to.have.all.keys('jwks', 'cookieKeys');
      expect(keys.jwks.keys).to.have.length(1);
      expect(keys.jwks.keys[0]).to.include.all.keys('kty', 'n', 'e', 'd', 'p', 'q', 'kid', 'alg', 'use');
      expect(keys.cookieKeys).to.have.length(1);
      expect(keys.cookieKeys[0]).to.match(/^[\w-]{43}$/);
      const other = outputJson(second);
      expect(other.jwks.keys[0].kid).to.not.equal(keys.jwks.keys[0].kid);
      expect(other.cookieKeys[0]).to.not.equal(keys.cookieKeys[0]);
    });
  });

  describe('configuration and storage', () => {
    it('memory storage is refused: the server keeps its data in its own process', async () => {
      expectFailure(await run({}, 'users', 'list'), 1,
        /^mcp-oauth-admin: The server keeps its data in memory \(no REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS is set\): an admin command cannot reach it; /);
    });

    it('an invalid configuration is named, variable by variable', async () => {
      expectFailure(await run({ REDIS_URL: 'http://nowhere', CLIENT_IDLE_TTL_DAYS: '0' }, 'stats'), 1,
        /^mcp-oauth-admin: The server's configuration is invalid: REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL; CLIENT_IDLE_TTL_DAYS: must be from 1 to 3650\.$/);
    });

    it("reads the server's .env file in the working directory, under the real environment", async () => {
      const { username } = await registerUser(issuer);
      writeFileSync(join(home.dir, '.env'), `REDIS_URL=${redis.url}\nREDIS_PREFIX=${prefix}\n`);
      try {
        const shown = outputJson(await run({}, 'users', 'show', username, '--json'));
        expect(shown.username).to.equal(username);
        expectFailure(await run({ REDIS_PREFIX: uniquePrefix() }, 'users', 'show', username), 3, /There is no user/);
      } finally {
        writeFileSync(join(home.dir, '.env'), '');
      }
    });

    it('a Redis that does not answer: gives up after 10 seconds with one sentence', async () => {
      expectFailure(await unreachable, 1,
        /^mcp-oauth-admin: Cannot reach the storage \(Redis at redis:\/\/127\.0\.0\.1:1\) within 10 seconds; check that it is running and that the configuration names it\.$/);
    });
  });

  describe('the command line', () => {
    it('--version: the version of the package; --help: the usage with every command and the exit codes', async () => {
      const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
      const [shown, help, bare] = await Promise.all([run({}, '--version'), run({}, '--help'), run({})]);
      expectSuccess(shown);
      expect(shown.stdout).to.equal(`mcp-oauth-admin ${version}\n`);
      expectSuccess(help);
      for (const command of ['users list', 'users show', 'users create', 'users disable', 'users enable', 'users delete', 'users reset-password',
        'clients list', 'clients show', 'clients delete', 'clients revoke', 'sessions revoke --user', 'keys generate', 'stats']) {
        expect(help.stdout).to.include(`  ${command}`);
      }
      expect(help.stdout).to.include('Exit codes: 0 success, 1 failure, 2 usage error (or a confirmation needed), 3 no such user or client.');
      expect(bare.stdout).to.equal(help.stdout);
    });

    it("is the package's `mcp-oauth-admin` bin, and runs from a checkout as `npm run --silent admin`", async () => {
      const root = new URL('..', import.meta.url);
      const { bin, version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
      expect(bin).to.include({ 'mcp-oauth-admin': 'bin/mcp-oauth-admin.js' });
      const options = { cwd: root, timeout: 20_000, env: { PATH: process.env.PATH ?? '', HOME: home.dir } };
      const [installed, npm] = await Promise.all([
        promisify(execFile)(process.execPath, ['bin/mcp-oauth-admin.js', '--version'], options),
        promisify(execFile)('npm', ['run', '--silent', 'admin', '--', 'keys', 'generate', '--json'], options),
      ]);
      expect(installed.stdout).to.equal(`mcp-oauth-admin ${version}\n`);
      expect(JSON.parse(npm.stdout)).to.have.all.keys('jwks', 'cookieKeys');
    });

    it('usage errors are exit code 2 with one sentence, before storage is touched', async () => {
      const cases: [string[], RegExp][] = [
        [['frobnicate'], /Unknown command "frobnicate"; run `mcp-oauth-admin --help` for the usage\.$/],
        [['users', 'frobnicate'], /Unknown command "users frobnicate"/],
        [['users'], /users needs one of: list, show, create, disable, enable, reset-password, delete;/],
        [['users', 'show'], /users show needs an argument: users show <username>;/],
        [['users', 'list', 'extra'], /users list takes no arguments/],
        [['users', 'list', '--password', 'x'], /users list takes no --password;/],
        [['users', 'show', 'a', '--frobnicate'], /Unknown option '--frobnicate'/],
        [['users', 'list', '--json=yes'], /Option '--json' does not take an argument/],
        [['users', 'show', '-x', 'y'], /users show takes one argument/],
        [['sessions', 'revoke'], /sessions revoke needs --user: sessions revoke --user <username> \[--yes\];/],
        [['users', 'create', 'a', '--password'], /Option '--password <value>' argument missing/],
      ];
      // No storage is configured: every one of them fails before it would matter.
      const results = await Promise.all(cases.map(([args]) => run({}, ...args)));
      for (const [i, [, message]] of cases.entries()) expectFailure(results[i]!, 2, message);
    });

    it('without a terminal, what asks for a confirmation is refused (2) unless --yes, and changes nothing', async () => {
      const { token, user } = await mcpToken(issuer);
      const attempts = await Promise.all([
        admin('users', 'disable', user.username), admin('users', 'delete', user.username),
        admin('users', 'reset-password', user.username, '--password', 'password456'),
        admin('sessions', 'revoke', '--user', user.username), admin('clients', 'revoke', 'mcp-cli'),
        admin('clients', 'delete', 'mcp-cli'),
      ]);
      for (const result of attempts) {
        expectFailure(result, 2, /^mcp-oauth-admin: [a-z -]+ asks for a confirmation, and stdin is not a terminal to ask on; add --yes to go ahead\.$/);
      }
      expect((await callTool(issuer, token, 'whoami')).isError).to.equal(undefined);
      expect((await login(user.username, user.password)).status).to.equal(200);
    });

    it('on a terminal it asks: no cancels (1) and changes nothing, yes goes ahead', async () => {
      const { user } = await mcpToken(issuer);
      const declined = onTerminal('users', 'disable', user.username);
      await declined.waitFor(/Disable \S+: refuse their sign-ins, end their browser sessions and revoke their apps\? \[y\/N\] /, 15_000);
      declined.type('n');
      const no = await declined.done;
      expect(no.code).to.equal(1);
      expect(no.stdout).to.include('mcp-oauth-admin: Cancelled; nothing was changed.');
      expect((await login(user.username, user.password)).status).to.equal(200);

      const accepted = onTerminal('users', 'disable', user.username);
      await accepted.waitFor(/\[y\/N\] /, 15_000);
      accepted.type('y');
      const yes = await accepted.done;
      expect(yes.code, yes.stdout).to.equal(0);
      expect(yes.stdout).to.include(`Disabled ${user.username}: sign-ins are refused`);
      expect((await login(user.username, user.password)).status).to.equal(403);
    });

    it('users create on a terminal asks for the password twice, without echoing it; two different ones are refused (2)', async () => {
      const username = uniqueName('op');
      const creating = onTerminal('users', 'create', username);
      await creating.waitFor(new RegExp(`New password for ${username}: `), 15_000);
      creating.type('typed secret 1');
      await creating.waitFor(/The same password again: /, 15_000);
      creating.type('typed secret 1');
      const created = await creating.done;
      expect(created.code, created.stdout).to.equal(0);
      expect(created.stdout).to.match(new RegExp(`Created the user ${username} `));
      expect(created.stdout, 'the password is not echoed').to.not.include('typed secret');
      expect((await login(username, 'typed secret 1')).status).to.equal(200);

      const other = uniqueName('op');
      const mistyped = onTerminal('users', 'create', other);
      await mistyped.waitFor(/New password for \S+: /, 15_000);
      mistyped.type('typed secret 1');
      await mistyped.waitFor(/The same password again: /, 15_000);
      mistyped.type('typed secret 2');
      const refused = await mistyped.done;
      expect(refused.code).to.equal(2);
      expect(refused.stdout).to.include('mcp-oauth-admin: The two passwords differ; nothing was changed.');
      expectFailure(await admin('users', 'show', other), 3, /There is no user/);
    });
  });
});
