import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { STACK_TRACE } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { cliHome, removeCliHomes, runCli, startCli, startSlowCli, type CliHome, type CliProcess, type CliResult } from './helpers/cli.js';
import { enterDeviceCode } from './helpers/device.js';
import { freePort } from './helpers/redis.js';
import { form, loggedInBrowser, pkce } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';
import { storeFile } from '../src/cli/token-store.js';

/**
 * The mcp-oauth command line (issue 5), driven as a user drives it: a child process against the real server,
 * the login completed in a browser (here: the test's Browser over HTTP), the code pasted on stdin.
 */
describe('the mcp-oauth command line', () => {
  const server = useTestServer();
  const env = () => ({ AUTH_SERVER: server.url });
  after(removeCliHomes);

  function storedFile(home: CliHome): string {
    const files = readdirSync(home.store);
    expect(files, 'exactly one saved login, no temporary files').to.have.length(1);
    return join(home.store, files[0]!);
  }
  const stored = (home: CliHome) => JSON.parse(readFileSync(storedFile(home), 'utf8'));
  const restore = (home: CliHome, login: unknown) => writeFileSync(storedFile(home), JSON.stringify(login));
  const mode = (path: string) => statSync(path).mode & 0o777;

  /** A failure as the user sees it: the exit code, and one sentence on stderr without a stack trace. */
  function expectFailure(result: CliResult, exitCode: number, message: RegExp) {
    expect(result.code, result.stderr).to.equal(exitCode);
    const stderr = result.stderr.trim();
    expect(stderr).to.match(message);
    expect(stderr.split('\n'), 'one line on stderr').to.have.length(1);
    expect(result.stderr).to.not.match(STACK_TRACE);
  }

  /**
   * A page of the loopback listener: HTML under the headers of the server's own pages (its address held the
   * code), and no script, which its CSP would block anyway.
   */
  async function expectLoopbackPage(res: Response, status: number): Promise<string> {
    const html = await res.text();
    expect(res.status, html).to.equal(status);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const csp = Object.fromEntries((res.headers.get('content-security-policy') ?? '').split(';')
      .map((directive) => directive.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(' ')]));
    expect(csp).to.deep.equal({ 'default-src': "'none'", 'base-uri': "'none'", 'frame-ancestors': "'none'" });
    expect(res.headers.get('x-frame-options')).to.equal('DENY');
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(html).to.not.match(/<script|\son[a-z]+=/i);
    return html;
  }

  // The device flow polls every 5 seconds (RFC 8628's default, the server gives no interval): its login is
  // started before the other tests and checked after them, so that wait overlaps theirs.
  const deviceHome = cliHome();
  // Its own user: logins of one user, client and browser session share one grant, which another test's
  // logout revokes.
  let device: { cli: CliProcess; uri: string; page: string; user: { username: string } };
  /** The user at the browser, signed in once for all the logins below (registering costs argon2 time). */
  let session: Awaited<ReturnType<typeof loggedInBrowser>>;
  before(async () => {
    const cli = startSlowCli(20_000, deviceHome, env(), 'login', '--device', '--no-browser');
    const deviceUser = await loggedInBrowser(server.url);
    session = await loggedInBrowser(server.url);
    const [, uri, userCode] = await cli.waitFor(/open (\S+) in a browser on any device and enter the code: ([A-Z]{4}-[A-Z]{4})$/m);
    device = { cli, uri: uri!, page: (await enterDeviceCode(deviceUser.browser, userCode!)).html, user: deviceUser.user };
  });

  /** The signed-in user follows the CLI's authorization URL; lands where the server redirects. */
  async function signInAndFollow(cli: CliProcess) {
    const authorize = await cli.authorizeUrl();
    const { url: landed } = await session.browser.follow(authorize);
    return { authorize: new URL(authorize), landed, user: session.user };
  }

  describe('login --manual, then whoami, tools, call, status and logout', () => {
    const home = cliHome();
    const outputs: CliResult[] = [];
    let login: Awaited<ReturnType<typeof signInAndFollow>> & { result: CliResult };
    let readOnly: Record<'whoami' | 'tools' | 'status' | 'failingTool', Promise<CliResult>>;
    const run = async (...args: string[]) => {
      const result = await runCli(home, env(), ...args);
      outputs.push(result);
      return result;
    };

    before(async () => {
      const cli = startCli(home, env(), 'login', '--manual', '--no-browser');
      const signedIn = await signInAndFollow(cli);
      expect(signedIn.landed.pathname).to.equal('/callback');
      cli.type(signedIn.landed.href);
      login = { ...signedIn, result: await cli.done };
      outputs.push(login.result);
      // The commands that change nothing run at once; the tests below each check one.
      readOnly = {
        whoami: run('whoami'), tools: run('tools'), status: run('status'),
        failingTool: run('call', 'notes_delete', '{"id":"00000000-0000-4000-8000-000000000000"}'),
      };
    });

    it('asks for a code for the public CLI client, with state, PKCE S256 and the MCP resource', () => {
      const params = login.authorize.searchParams;
      expect(login.authorize.origin + login.authorize.pathname).to.equal(`${server.url}/oauth/authorize`);
      expect(Object.fromEntries(params)).to.include({
        client_id: 'mcp-cli', redirect_uri: `${server.url}/callback`, response_type: 'code',
        code_challenge_method: 'S256', resource: `${server.url}/mcp`,
      });
      expect(params.get('code_challenge')).to.match(/^[\w-]{43}$/);
      expect(params.get('state')).to.match(/^[\w-]{22,}$/);
      expect(login.landed.searchParams.get('state')).to.equal(params.get('state'));
    });

    it('takes the pasted callback address, and says who logged in', () => {
      expect(login.result.code, login.result.stderr).to.equal(0);
      expect(login.result.stdout).to.include('Paste the authorization code');
      expect(login.result.stdout).to.include(`Logged in to ${server.url} as ${login.user.username}`);
    });

    it('saves the tokens in a file of mode 0600, in a directory of mode 0700 under $XDG_CONFIG_HOME/mcp-oauth', () => {
      expect(mode(home.store)).to.equal(0o700);
      expect(mode(storedFile(home))).to.equal(0o600);
      const saved = stored(home);
      expect(saved).to.include({ server: server.url, client_id: 'mcp-cli', token_type: 'Bearer' });
      expect(saved.scope.split(' ').sort()).to.deep.equal(['notes:read', 'notes:write']);
      expect(saved.access_token).to.be.a('string');
      expect(saved.refresh_token).to.be.a('string');
      expect(Date.parse(saved.expires_at) - Date.now()).to.be.within(3500_000, 3600_000);
      expect(saved.user).to.deep.equal({ id: login.user.userId, username: login.user.username });
    });

    it('whoami: the user, as the server knows them', async () => {
      const result = await readOnly.whoami;
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include(`as ${login.user.username} (user id ${login.user.userId}), through the client mcp-cli`);
    });

    it('tools: the MCP tools, one a line', async () => {
      const result = await readOnly.tools;
      expect(result.code, result.stderr).to.equal(0);
      const names = result.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0]);
      expect(names).to.deep.equal(['whoami', 'notes_add', 'notes_list', 'notes_delete']);
    });

    it('call notes_add with JSON arguments, then call notes_list shows the note', async () => {
      const added = await run('call', 'notes_add', '{"text":"buy milk"}');
      expect(added.code, added.stderr).to.equal(0);
      expect(added.stdout).to.match(/^Added note \S+\.$/m);
      const listed = await run('call', 'notes_list');
      expect(listed.code, listed.stderr).to.equal(0);
      expect(listed.stdout).to.include('You have 1 note:').and.match(/- \[\S+\] buy milk/);
    });

    it('a tool that reports an error fails with its words', async () => {
      const result = await readOnly.failingTool;
      expectFailure(result, 1, /^mcp-oauth: The tool notes_delete failed: You have no note with the id 00000000-0000-4000-8000-000000000000\./);
    });

    it('status: server, user and token expiry, from the saved file', async () => {
      const result = await readOnly.status;
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.match(new RegExp(`^Server: +${server.url}$`, 'm'));
      expect(result.stdout).to.match(new RegExp(`^User: +${login.user.username} `, 'm'));
      expect(result.stdout).to.include(`expires ${stored(home).expires_at}`);
    });

    it('prints no token without --show-tokens, and both with it', async () => {
      const { access_token: access, refresh_token: refresh } = stored(home);
      await Promise.all(Object.values(readOnly));
      expect(outputs.length).to.be.at.least(7);
      for (const output of outputs) expect(output.stdout + output.stderr).to.not.include(access).and.not.include(refresh);
      const shown = await run('status', '--show-tokens');
      expect(shown.stdout).to.include(access).and.include(refresh);
    });

    it('renews an expired access token with the refresh token by itself, and saves the new tokens', async () => {
      const before = stored(home);
      restore(home, { ...before, expires_at: new Date(Date.now() - 1000).toISOString() });
      const result = await run('call', 'notes_list');
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('buy milk');
      const after = stored(home);
      expect(after.access_token).to.not.equal(before.access_token);
      expect(after.refresh_token).to.be.a('string');
      expect(Date.parse(after.expires_at)).to.be.above(Date.now() + 3500_000);
      expect(mode(storedFile(home))).to.equal(0o600);
    });

    it('renews an access token the MCP server refuses (401) before its expiry, and sends the request again', async () => {
      const before = stored(home);
      restore(home, { ...before, access_token: 'revoked-or-unknown-access-token' });
      const result = await run('call', 'notes_list');
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('buy milk');
      const after = stored(home);
      expect(after.access_token).to.not.equal('revoked-or-unknown-access-token').and.not.equal(before.access_token);
      expect(after.refresh_token).to.be.a('string').and.not.equal(before.refresh_token);
    });

    it('a refused access token whose renewal is refused too: the session has expired (exit 3)', async () => {
      const saved = stored(home);
      restore(home, { ...saved, access_token: 'revoked-or-unknown-access-token', refresh_token: 'not-a-refresh-token' });
      try {
        expectFailure(await run('tools'), 3, /^mcp-oauth: Your session has expired; run `mcp-oauth login` again\.$/);
      } finally {
        restore(home, saved);
      }
    });

    it('logout: revokes the tokens at the server and deletes the file', async () => {
      const saved = stored(home);
      const result = await run('logout');
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include(`Logged out of ${server.url}`);
      expect(readdirSync(home.store)).to.deep.equal([]);
      const mcp = await fetch(`${server.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${saved.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(mcp.status, 'the revoked access token at /mcp').to.equal(401);
      const refreshed = await fetch(`${server.url}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: saved.refresh_token, client_id: 'mcp-cli' }));
      expect((await refreshed.json()).error, 'the revoked refresh token').to.equal('invalid_grant');
    });
  });

  it('login: a loopback listener on 127.0.0.1 catches the code (its page under the server\'s page headers), and a browser that cannot be opened is no error', async () => {
    const home = cliHome();
    // No program to open a browser with: `open` fails, and the login goes on with the printed URL.
    const emptyPath = join(home.dir, 'bin');
    mkdirSync(emptyPath);
    const cli = startCli(home, { ...env(), PATH: emptyPath }, 'login');
    const { authorize, landed, user } = await signInAndFollow(cli);
    const redirect = new URL(authorize.searchParams.get('redirect_uri')!);
    expect(redirect.hostname).to.equal('127.0.0.1');
    expect(redirect.pathname).to.equal('/callback');
    expect(landed.origin + landed.pathname).to.equal(redirect.href);
    expect(await expectLoopbackPage(await fetch(landed), 200)).to.include('You are logged in');
    const result = await cli.done;
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include(`as ${user.username}`);
    expect(stored(home).client_id).to.equal('mcp-cli');
    let closed = false;
    await fetch(landed).catch(() => { closed = true; });
    expect(closed, 'the listener is closed after the login').to.equal(true);
  });

  describe("with the seed's CLIENT_ID=client1 and CLIENT_SECRET=secret1 in a .env file", () => {
    const home = cliHome();
    before(() => writeFileSync(join(home.dir, '.env'), `AUTH_SERVER=${server.url}\nCLIENT_ID=client1\nCLIENT_SECRET=secret1\n`));

    it("logs in as the seed's snippet does: the server's /callback page, the code pasted, a confidential exchange", async () => {
      const cli = startCli(home, {}, 'login', '--no-browser');
      const { authorize, landed, user } = await signInAndFollow(cli);
      expect(Object.fromEntries(authorize.searchParams)).to.include({
        client_id: 'client1', redirect_uri: `${server.url}/callback`, code_challenge_method: 'S256', resource: `${server.url}/mcp`,
      });
      expect(landed.pathname).to.equal('/callback');
      const page = await (await new Browser(server.url).fetch(landed.href)).text();
      const code = /id="code" type="text" value="([^"]+)"/.exec(page)?.[1];
      expect(code, 'the code shown on the /callback page').to.be.a('string');
      cli.type(code!);
      const result = await cli.done;
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include(`Logged in to ${server.url} as ${user.username}`);
      expect(stored(home).client_id).to.equal('client1');
      expect(result.stdout + result.stderr + readFileSync(storedFile(home), 'utf8')).to.not.include('secret1');
    });

    it('renews with the client secret; when renewal is refused, says to log in again', async () => {
      const saved = stored(home);
      const expired = new Date(Date.now() - 1000).toISOString();
      restore(home, { ...saved, expires_at: expired });
      const renewed = await runCli(home, {}, 'whoami', '--debug');
      expect(renewed.code, renewed.stderr).to.equal(0);
      expect(renewed.stdout).to.include('through the client client1');
      expect(renewed.stdout + renewed.stderr).to.not.include('secret1');
      expect(stored(home).access_token).to.not.equal(saved.access_token);

      restore(home, { ...stored(home), expires_at: expired, refresh_token: 'not-a-refresh-token' });
      expectFailure(await runCli(home, {}, 'whoami'), 3, /^mcp-oauth: Your session has expired; run `mcp-oauth login` again\.$/);
    });
  });

  describe('errors: one sentence on stderr, a non-zero exit, never a stack trace', () => {
    it('the server cannot be reached (exit 1); --debug adds the details', async () => {
      const home = cliHome();
      const url = `http://127.0.0.1:${await freePort()}`;
      const [plain, debug] = await Promise.all([
        runCli(home, { AUTH_SERVER: url }, 'login', '--no-browser'),
        runCli(home, { AUTH_SERVER: url }, 'login', '--no-browser', '--debug'),
      ]);
      expectFailure(plain, 1, new RegExp(`^mcp-oauth: Cannot reach the server at ${url}; check that it is running`));
      expect(debug.code).to.equal(1);
      expect(debug.stderr).to.include('caused by:').and.include('fetch failed');
    });

    it('no MCP server at the address (exit 1), after the 2026-07-28 probe and the 2025 handshake were both answered 404', async () => {
      const methods: string[] = [];
      const elsewhere = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => {
          methods.push((JSON.parse(body) as { method: string }).method);
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        });
      });
      await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
      const home = cliHome();
      mkdirSync(home.store, { mode: 0o700 });
      const login = { server: url, client_id: 'mcp-cli', access_token: 'an-access-token', token_type: 'Bearer', expires_at: new Date(Date.now() + 3600_000).toISOString() };
      writeFileSync(storeFile(url, { XDG_CONFIG_HOME: home.config }), JSON.stringify(login), { mode: 0o600 });
      try {
        expectFailure(await runCli(home, { AUTH_SERVER: url }, 'tools'), 1,
          new RegExp(`^mcp-oauth: There is no MCP server at ${url}/mcp; check AUTH_SERVER \\(or --server\\)\\.$`));
        expect(methods).to.deep.equal(['server/discover', 'initialize']);
      } finally {
        elsewhere.close();
      }
    });

    it('a pasted callback address whose state is not this login\'s (exit 1), and nothing is saved', async () => {
      const home = cliHome();
      const cli = startCli(home, env(), 'login', '--manual', '--no-browser');
      const { landed } = await signInAndFollow(cli);
      landed.searchParams.set('state', 'forged');
      cli.type(landed.href);
      expectFailure(await cli.done, 1, /^mcp-oauth: The sign-in response does not belong to this login \(its state does not match\)/);
      expect(readdirSync(home.config)).to.deep.equal([]);
    });

    it('a redirect to the loopback listener with another state (exit 1); the browser is told why, on a page under the same headers', async () => {
      const home = cliHome();
      const cli = startCli(home, env(), 'login', '--no-browser');
      const redirect = new URL(new URL(await cli.authorizeUrl()).searchParams.get('redirect_uri')!);
      const page = await fetch(`${redirect.href}?code=stolen&state=forged`);
      expect(await expectLoopbackPage(page, 400)).to.include('state does not match');
      expectFailure(await cli.done, 1, /state does not match/);
    });

    it('the user cancels the sign-in: access_denied comes back to the listener (exit 1)', async () => {
      const home = cliHome();
      const cli = startCli(home, env(), 'login', '--no-browser');
      const browser = new Browser(server.url);
      const { res } = await browser.follow(await cli.authorizeUrl());
      const { url: landed } = await browser.submit(await res.text(), '/abort', {});
      expect(landed.searchParams.get('error')).to.equal('access_denied');
      expect((await fetch(landed)).status).to.equal(400);
      expectFailure(await cli.done, 1, /^mcp-oauth: The sign-in was cancelled or access was denied, so you are not logged in/);
    });

    it('a code that was already used (exit 1)', async () => {
      // A code for the CLI client, exchanged once already, as after an earlier login.
      const { verifier, challenge } = pkce();
      const redirectUri = `${server.url}/callback`;
      const { url } = await session.browser.follow(`${server.url}/oauth/authorize?${new URLSearchParams({
        client_id: 'mcp-cli', redirect_uri: redirectUri, response_type: 'code', state: 'earlier', code_challenge: challenge, code_challenge_method: 'S256',
      })}`);
      const used = url.searchParams.get('code')!;
      const first = await fetch(`${server.url}/oauth/token`, form({ grant_type: 'authorization_code', code: used, redirect_uri: redirectUri, client_id: 'mcp-cli', code_verifier: verifier }));
      expect(first.status).to.equal(200);

      const cli = startCli(cliHome(), env(), 'login', '--manual', '--no-browser');
      await cli.authorizeUrl();
      cli.type(used);
      expectFailure(await cli.done, 1, /^mcp-oauth: The authorization code was refused because it has expired or was already used/);
    });

    it('tool arguments that are not a JSON object (exit 2)', async () => {
      const home = cliHome();
      const [broken, array] = await Promise.all([
        runCli(home, env(), 'call', 'notes_add', '{"text":'),
        runCli(home, env(), 'call', 'notes_add', '["hello"]'),
      ]);
      expectFailure(broken, 2, /^mcp-oauth: The tool arguments must be a JSON object, like '\{"text":"hello"\}' \(.*JSON.*\)\.$/);
      expectFailure(array, 2, /must be a JSON object.*\(got an array\)\.$/);
    });

    it('not logged in (exit 3); logout then has nothing to do', async () => {
      const home = cliHome();
      const results = await Promise.all([['whoami'], ['status']].map((args) => runCli(home, env(), ...args)));
      for (const result of results) {
        expectFailure(result, 3, new RegExp(`^mcp-oauth: You are not logged in to ${server.url}; run \`mcp-oauth login\` first\\.$`));
      }
      const logout = await runCli(home, env(), 'logout');
      expect(logout.code).to.equal(0);
      expect(logout.stdout).to.include('not logged in');
    });

    it('an unknown command or option (exit 2)', async () => {
      const home = cliHome();
      const [command, option] = await Promise.all([runCli(home, env(), 'frob'), runCli(home, env(), 'tools', '--frob')]);
      expectFailure(command, 2, /^mcp-oauth: Unknown command "frob"; run `mcp-oauth help` for the usage\.$/);
      expectFailure(option, 2, /^mcp-oauth: Unknown option '--frob'; run `mcp-oauth help` for the usage\.$/);
    });
  });

  it('is the package\'s `mcp-oauth` bin, and runs from a checkout as `npm run --silent cli`', async () => {
    const root = new URL('..', import.meta.url);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(pkg.bin).to.include({ 'mcp-oauth': 'bin/mcp-oauth.js' });
    const run = promisify(execFile);
    const options = { cwd: root, timeout: 10_000 };
    const [bin, npm] = await Promise.all([
      run(process.execPath, ['bin/mcp-oauth.js', '--version'], options),
      run('npm', ['run', '--silent', 'cli', '--', 'help'], options),
    ]);
    expect(bin.stdout).to.equal(`mcp-oauth ${pkg.version}\n`);
    expect(npm.stdout).to.match(/^Usage: mcp-oauth <command> \[options\]\n/);
  });

  describe('login --device (started before the other tests)', () => {
    it('prints the verification URI and the user code, and polls until the user has confirmed', async () => {
      expect(device.uri).to.equal(`${server.url}/oauth/device`);
      expect(device.page).to.include('Device connected');
      const result = await device.cli.done;
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include(`Logged in to ${server.url} as ${device.user.username}`);
      expect(stored(deviceHome).scope.split(' ').sort()).to.deep.equal(['notes:read', 'notes:write']);
    });
  });
});
