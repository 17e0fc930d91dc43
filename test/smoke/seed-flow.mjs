// Usage: node test/smoke/seed-flow.mjs COMMAND [ARG...]   (run from the tree the command serves)
//
// Starts the server with COMMAND (see harness.mjs), walks the seed flow over HTTP as the README's curl walk-through
// does (register, log in, authorize, the callback page, token, userinfo, refresh), and stops it with SIGTERM.
import { check, expectStatus, request, run, startServer, step } from './harness.mjs';

const server = startServer('seed-flow');

/** A browser's cookies, by name (one host). */
class Jar extends Map {
  keep(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }

  get header() {
    return [...this].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}
const cookies = new Jar();

await run(server, 'seed-flow smoke', async (base) => {
  const user = { username: `smoke${process.pid}`, password: 'password123' };
  const callback = `${base}/callback`;
  const authorize = `${base}/oauth/authorize?${new URLSearchParams({
    client_id: 'client1', redirect_uri: callback, response_type: 'code', state: 'smoke_state',
  })}`;
  const client = { client_id: 'client1', client_secret: 'secret1' };
  let code;
  let tokens;

  await step('the login page renders for a browser without a session', async () => {
    const anonymous = new Jar();
    const redirect = anonymous.keep(await request(authorize, { redirect: 'manual' }));
    const page = new URL(redirect.headers.get('location') ?? '/', base);
    const res = await request(page, { headers: { cookie: anonymous.header } });
    const html = await res.text();
    check(res.status === 200 && page.pathname.startsWith('/interaction/'), `${res.status} at ${page.href}`);
    check(html.includes('<h1>Sign in</h1>'), 'no sign-in heading');
  });
  await step('POST /oauth/register', async () => {
    const res = await request(`${base}/oauth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user),
    });
    await expectStatus(res, 201);
  });
  await step('POST /oauth/login sets the session cookie', async () => {
    const res = await request(`${base}/oauth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user),
    });
    cookies.keep(res);
    await expectStatus(res, 200);
    check(cookies.has('_session'), `cookies: ${[...cookies.keys()].join(', ')}`);
  });
  await step('GET /oauth/authorize redirects to the callback with a code', async () => {
    const res = await request(authorize, { headers: { cookie: cookies.header }, redirect: 'manual' });
    const location = new URL(res.headers.get('location') ?? '/', base);
    check(res.status === 303 && location.href.startsWith(`${callback}?`), `${res.status} to ${location.href}`);
    check(location.searchParams.get('state') === 'smoke_state', `state ${location.searchParams.get('state')}`);
    code = location.searchParams.get('code');
    check(code, 'no code');
  });
  await step('GET /callback shows the code', async () => {
    const res = await request(`${callback}?${new URLSearchParams({ code, state: 'smoke_state' })}`);
    check(res.status === 200 && (await res.text()).includes(`value="${code}"`), `${res.status}, code not on the page`);
  });
  await step('POST /oauth/token exchanges the code', async () => {
    const res = await request(`${base}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callback, ...client }),
    });
    await expectStatus(res, 200);
    tokens = await res.json();
    check(tokens.token_type === 'Bearer' && tokens.access_token && tokens.refresh_token, JSON.stringify(tokens));
  });
  await step('GET /oauth/userinfo names the user', async () => {
    const res = await request(`${base}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    await expectStatus(res, 200);
    const info = await res.json();
    check(info.username === user.username, JSON.stringify(info));
  });
  await step('POST /oauth/token refreshes', async () => {
    const res = await request(`${base}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...client }),
    });
    await expectStatus(res, 200);
    check((await res.json()).access_token, 'no access token');
  });
});
