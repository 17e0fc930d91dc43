import { expect } from 'chai';
import { Browser, decodeEntities } from './helpers/browser.js';
import { authorizeUrl, exchangeCode, json, loggedInBrowser, registerUser, uniqueName, type Tokens } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/**
 * The browser pages over plain HTTP, as a browser without JavaScript would use them: the login and registration
 * pages of an interaction, their CSRF and origin checks, Cancel, the callback page and the logout pages.
 */

// ---- reading pages ---------------------------------------------------------------------------------------

type Attrs = Record<string, string>;

const attrsOf = (s: string): Attrs => Object.fromEntries([...s.matchAll(/([\w:.-]+)(?:\s*=\s*"([^"]*)")?/g)]
  .map((m) => [m[1]!.toLowerCase(), decodeEntities(m[2] ?? '')]));

interface Form {
  attrs: Attrs;
  inputs: Attrs[];
  buttons: Attrs[];
}

/** Every form of a page, with its inputs (any attribute order, self-closing or not) and buttons. */
function formsOf(html: string): Form[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map((m) => ({
    attrs: attrsOf(m[1]!),
    inputs: [...m[2]!.matchAll(/<input\b([^>]*?)\/?>/g)].map((i) => attrsOf(i[1]!)),
    buttons: [...m[2]!.matchAll(/<button\b([^>]*)>/g)].map((b) => attrsOf(b[1]!)),
  }));
}

function formOf(html: string, actionContains: string): Form {
  const form = formsOf(html).find((f) => (f.attrs.action ?? '').includes(actionContains));
  expect(form, `a form posting to …${actionContains}`).to.not.equal(undefined);
  return form!;
}

const hiddenFields = (form: Form) => Object.fromEntries(form.inputs
  .filter((i) => i.type === 'hidden' && i.name).map((i) => [i.name!, i.value ?? '']));

/** The text of the page's error message (role="alert"), entities decoded. */
function alertOf(html: string): string {
  const m = /<p class="error" role="alert">([\s\S]*?)<\/p>/.exec(html);
  expect(m, 'an error message on the page').to.not.equal(null);
  return decodeEntities(m![1]!.replace(/<[^>]+>/g, '')).trim();
}

const inputValue = (html: string, id: string) => {
  const input = [...html.matchAll(/<input\b([^>]*?)\/?>/g)].map((m) => attrsOf(m[1]!)).find((a) => a.id === id);
  expect(input, `an input #${id}`).to.not.equal(undefined);
  return input!.value;
};

// ---- acting like a browser -------------------------------------------------------------------------------

/** POSTs a urlencoded form as a same-origin page would, following redirects on this origin. */
function post(browser: Browser, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return browser.follow(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Submits a form of `html` like a browser: its hidden fields, plus what the user typed. */
function submitForm(browser: Browser, html: string, actionContains: string, typed: Record<string, string>,
  headers: Record<string, string> = {}) {
  const form = formOf(html, actionContains);
  expect(form.attrs.method?.toLowerCase()).to.equal('post');
  return post(browser, form.attrs.action!, { ...hiddenFields(form), ...typed }, headers);
}

/** GET /oauth/authorize (the seed's URL) without a session: the browser lands on the login page. */
async function openLoginPage(browser: Browser, params: Record<string, string> = {}) {
  const { res, url } = await browser.follow(authorizeUrl(browser.origin, params));
  const m = /^\/interaction\/([^/]+)$/.exec(url.pathname);
  expect(m, `expected the login page, got ${url.href} (${res.status})`).to.not.equal(null);
  const html = await res.text();
  return { res, url, html, uid: decodeURIComponent(m![1]!), csrf: hiddenFields(formOf(html, '/login')).csrf! };
}

const expectPage = (res: Response, status: number) => {
  expect(res.status).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^text\/html/);
};

describe('the browser pages, over HTTP', () => {
  const server = useTestServer();

  describe('the login page', () => {
    it('is where /oauth/authorize lands without a session: labelled username and password fields, a CSRF field, a link to registration', async () => {
      const browser = new Browser(server.url);
      const { res, html, uid } = await openLoginPage(browser);
      expectPage(res, 200);

      const form = formOf(html, `/interaction/${uid}/login`);
      expect(form.attrs.method).to.equal('post');
      const username = form.inputs.find((i) => i.name === 'username');
      const password = form.inputs.find((i) => i.name === 'password');
      expect(username, 'a username field').to.not.equal(undefined);
      expect(password, 'a password field').to.not.equal(undefined);
      expect(password!.type).to.equal('password');
      expect(html).to.include(`<label for="${username!.id}">`);
      expect(html).to.include(`<label for="${password!.id}">`);
      const csrf = form.inputs.find((i) => i.type === 'hidden' && i.name === 'csrf');
      expect(csrf?.value, 'a CSRF token').to.be.a('string').with.length.greaterThan(20);
      expect(form.buttons.some((b) => b.type === 'submit'), 'a submit button').to.equal(true);

      const link = /<a href="([^"]*\/register)"/.exec(html);
      expect(link, 'a link to the registration page').to.not.equal(null);
      expect(decodeEntities(link![1]!)).to.equal(`/interaction/${encodeURIComponent(uid)}/register`);
      const register = await browser.fetch(decodeEntities(link![1]!));
      expectPage(register, 200);
      formOf(await register.text(), `/interaction/${uid}/register`);
    });

    it('is never cached, never framed, never sent on as a Referer, and allows no inline script', async () => {
      const browser = new Browser(server.url);
      const { res, uid } = await openLoginPage(browser);
      const register = await browser.fetch(`/interaction/${uid}/register`);
      for (const page of [res, register]) {
        const csp = page.headers.get('content-security-policy') ?? '';
        expect(csp).to.include("frame-ancestors 'none'");
        expect(csp).to.match(/(^|;)\s*(script-src|default-src) /);
        expect(csp).to.not.include("'unsafe-inline'");
        expect(csp).to.not.include("'unsafe-eval'");
        expect(page.headers.get('x-frame-options')).to.equal('DENY');
        expect(page.headers.get('cache-control')).to.equal('no-store');
        // The interaction's uid is in the address: a link or resource must not carry it elsewhere.
        expect(page.headers.get('referrer-policy')).to.equal('no-referrer');
      }
    });

    it('signs in: ends at /callback with a code that exchanges for tokens, and the browser stays signed in', async () => {
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      const { html } = await openLoginPage(browser);
      const { res, url } = await submitForm(browser, html, '/login', { username: user.username, password: user.password });
      expect(url.pathname).to.equal('/callback');
      expectPage(res, 200);
      expect(url.searchParams.get('state')).to.equal('random_state');
      const code = url.searchParams.get('code')!;
      expect(await res.text()).to.include(`value="${code}"`);

      const token = await exchangeCode(server.url, code);
      expect(token.status).to.equal(200);
      const tokens = await token.json() as Tokens;
      const info = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(await info.json()).to.include({ id: user.userId, username: user.username, sub: user.userId });

      // Later calls find the session the page login made: straight to /callback, no page in between.
      const again = await browser.fetch(authorizeUrl(server.url, { state: 'second' }));
      expect(again.status).to.be.within(300, 399);
      const location = new URL(again.headers.get('location')!, server.url);
      expect(location.pathname).to.equal('/callback');
      expect(location.searchParams.get('code')).to.be.a('string').and.not.equal(code);
      expect(location.searchParams.get('state')).to.equal('second');
    });

    it('answers a wrong password with a 401 page: an error, the username kept, the password never echoed', async () => {
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      const { html } = await openLoginPage(browser);
      const wrong = 'Wrong-Pa55word-7f3a9';
      const { res, url } = await submitForm(browser, html, '/login', { username: user.username, password: wrong });
      expect(url.pathname).to.match(/^\/interaction\//);
      expectPage(res, 401);
      const page = await res.text();
      expect(alertOf(page)).to.match(/username or password is incorrect/i);
      expect(inputValue(page, 'username')).to.equal(user.username);
      expect(page).to.not.include(wrong);
      expect(inputValue(page, 'password')).to.equal(undefined);
      expect(res.headers.get('cache-control')).to.equal('no-store');

      // The same page still works with the right password.
      const retry = await submitForm(browser, page, '/login', { username: user.username, password: user.password });
      expect(retry.url.pathname).to.equal('/callback');
      expect(retry.url.searchParams.get('code')).to.be.a('string');
    });

    it('answers an unknown user exactly like a wrong password (401, same message)', async () => {
      const browser = new Browser(server.url);
      const { html } = await openLoginPage(browser);
      const { res } = await submitForm(browser, html, '/login', { username: uniqueName('nobody'), password: 'password123' });
      expectPage(res, 401);
      expect(alertOf(await res.text())).to.match(/username or password is incorrect/i);
    });
  });

  describe('the registration page', () => {
    async function openRegisterPage(browser: Browser) {
      const login = await openLoginPage(browser);
      const res = await browser.fetch(`/interaction/${login.uid}/register`);
      expectPage(res, 200);
      return { ...login, html: await res.text() };
    }

    it('creates the account and finishes at /callback; the account then logs in through POST /oauth/login', async () => {
      const browser = new Browser(server.url);
      const { html } = await openRegisterPage(browser);
      const username = uniqueName('page');
      const password = 'a long enough password';
      const { res, url } = await submitForm(browser, html, '/register', { username, password, confirm: password });
      expect(url.pathname).to.equal('/callback');
      expectPage(res, 200);
      const token = await exchangeCode(server.url, url.searchParams.get('code')!);
      expect(token.status).to.equal(200);
      const { access_token: accessToken } = await token.json() as Tokens;
      const info = await (await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).json();
      expect(info.username).to.equal(username);

      const login = await fetch(`${server.url}/oauth/login`, json({ username, password }));
      expect(login.status).to.equal(200);
      expect(await login.json()).to.deep.equal({ message: 'Login successful' });

      // And the registration signed this browser in.
      const again = await browser.fetch(authorizeUrl(server.url));
      expect(new URL(again.headers.get('location') ?? '/', server.url).pathname).to.equal('/callback');
    });

    it('refuses a mismatched confirmation with a 400 page, and creates no account', async () => {
      const browser = new Browser(server.url);
      const { html } = await openRegisterPage(browser);
      const username = uniqueName('mismatch');
      const { res } = await submitForm(browser, html, '/register', { username, password: 'first password 1', confirm: 'second password 2' });
      expectPage(res, 400);
      const page = await res.text();
      expect(alertOf(page)).to.match(/passwords do not match/i);
      expect(inputValue(page, 'username')).to.equal(username);
      expect(page).to.not.include('first password 1').and.not.include('second password 2');

      const login = await fetch(`${server.url}/oauth/login`, json({ username, password: 'first password 1' }));
      expect(login.status).to.equal(401);
    });

    it('refuses a taken username (in any letter case) with a 409 page', async () => {
      const taken = await registerUser(server.url);
      const browser = new Browser(server.url);
      const { html } = await openRegisterPage(browser);
      const { res } = await submitForm(browser, html, '/register', {
        username: taken.username.toUpperCase(), password: 'another password', confirm: 'another password',
      });
      expectPage(res, 409);
      const page = await res.text();
      expect(alertOf(page)).to.match(/already taken/i);
      expect(page).to.not.include('another password');
      // The original account is untouched.
      expect((await fetch(`${server.url}/oauth/login`, json({ username: taken.username, password: taken.password }))).status).to.equal(200);
    });

    it('refuses an invalid username with a 400 page that states the rule, and a short password with its rule', async () => {
      const browser = new Browser(server.url);
      const { html } = await openRegisterPage(browser);
      const bad = await submitForm(browser, html, '/register', { username: 'no spaces!', password: 'password123', confirm: 'password123' });
      expectPage(bad.res, 400);
      const page = await bad.res.text();
      expect(alertOf(page)).to.include('username must be 3 to 64 characters: letters, digits, ".", "_" or "-"');
      expect(inputValue(page, 'username')).to.equal('no spaces!');

      const short = await submitForm(browser, page, '/register', { username: uniqueName('short'), password: 'short', confirm: 'short' });
      expectPage(short.res, 400);
      expect(alertOf(await short.res.text())).to.include('password must be 8 to 1024 bytes');
    });
  });

  describe('escaping', () => {
    const evil = '"><script>alert(1)</script>';

    it('echoes a username typed into the login form escaped, never as markup', async () => {
      const browser = new Browser(server.url);
      const { html } = await openLoginPage(browser);
      const { res } = await submitForm(browser, html, '/login', { username: evil, password: 'password123' });
      expectPage(res, 401);
      const page = await res.text();
      expect(page).to.not.include('<script>alert(1)');
      expect(page).to.not.include('"><script');
      expect(page).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(inputValue(page, 'username')).to.equal(evil);
    });

    it('echoes a username typed into the registration form escaped, never as markup', async () => {
      const browser = new Browser(server.url);
      const { uid } = await openLoginPage(browser);
      const html = await (await browser.fetch(`/interaction/${uid}/register`)).text();
      const { res } = await submitForm(browser, html, '/register', { username: evil, password: 'password123', confirm: 'password123' });
      expectPage(res, 400);
      const page = await res.text();
      expect(page).to.not.include('<script>alert(1)');
      expect(inputValue(page, 'username')).to.equal(evil);
    });

    it('escapes what the callback page echoes from its query', async () => {
      const query = new URLSearchParams({ code: evil, state: evil });
      const ok = await fetch(`${server.url}/callback?${query}`);
      expect(await ok.text()).to.not.include('<script>alert(1)');
      const failed = await fetch(`${server.url}/callback?${new URLSearchParams({ error: evil, error_description: evil })}`);
      expectPage(failed, 400);
      expect(await failed.text()).to.not.include('<script>alert(1)');
    });
  });

  describe('CSRF and origin checks on the forms', () => {
    it('refuses a login post without the CSRF token, or with a wrong one, with a 403 page (and signs nobody in)', async () => {
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      const { uid, csrf } = await openLoginPage(browser);
      const credentials = { username: user.username, password: user.password };

      const missing = await post(browser, `/interaction/${uid}/login`, credentials);
      expectPage(missing.res, 403);
      expect(alertOf(await missing.res.text())).to.match(/expired|reload/i);

      const wrong = await post(browser, `/interaction/${uid}/login`, { ...credentials, csrf: `${csrf.slice(0, -2)}xx` });
      expectPage(wrong.res, 403);

      const empty = await post(browser, `/interaction/${uid}/login`, { ...credentials, csrf: '' });
      expectPage(empty.res, 403);

      // Still not signed in: a new authorization request shows the login page.
      await openLoginPage(browser);
    });

    it('does not accept the token of one interaction for another', async () => {
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      const first = await openLoginPage(browser, { state: 'first' });
      const second = await openLoginPage(browser, { state: 'second' });
      expect(second.uid).to.not.equal(first.uid);
      expect(second.csrf).to.not.equal(first.csrf);
      const credentials = { username: user.username, password: user.password };

      const refused = await post(browser, `/interaction/${second.uid}/login`, { ...credentials, csrf: first.csrf });
      expectPage(refused.res, 403);

      // The right token for the same post goes through.
      const accepted = await post(browser, `/interaction/${second.uid}/login`, { ...credentials, csrf: second.csrf });
      expect(accepted.url.pathname).to.equal('/callback');
      expect(accepted.url.searchParams.get('state')).to.equal('second');
    });

    it('refuses a post that the browser marks Sec-Fetch-Site: cross-site, even with a valid token', async () => {
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      const { html, uid } = await openLoginPage(browser);
      const registerHtml = await (await browser.fetch(`/interaction/${uid}/register`)).text();
      const credentials = { username: user.username, password: user.password };
      const crossSite = { 'sec-fetch-site': 'cross-site' };

      for (const action of ['/login', '/abort']) {
        const { res } = await submitForm(browser, html, action, credentials, crossSite);
        expectPage(res, 403);
      }
      const fresh = { username: uniqueName('crosssite'), password: 'password123', confirm: 'password123' };
      const register = await submitForm(browser, registerHtml, '/register', fresh, crossSite);
      expectPage(register.res, 403);
      expect((await fetch(`${server.url}/oauth/login`, json({ username: fresh.username, password: fresh.password }))).status,
        'no account created').to.equal(401);
      // Nothing happened: the same page, posted from this site, still signs in.
      const { url } = await submitForm(browser, html, '/login', credentials);
      expect(url.pathname).to.equal('/callback');
    });

    it('refuses with a 400 page a post to an interaction that is not this browser\'s', async () => {
      const user = await registerUser(server.url);
      const victim = new Browser(server.url);
      const theirs = await openLoginPage(victim);
      const attacker = new Browser(server.url);
      const mine = await openLoginPage(attacker);
      expect(mine.uid).to.not.equal(theirs.uid);

      const { res, url } = await post(attacker, `/interaction/${theirs.uid}/login`,
        { username: user.username, password: user.password, csrf: theirs.csrf });
      expect(url.pathname).to.equal(`/interaction/${theirs.uid}/login`);
      expectPage(res, 400);
      expect(alertOf(await res.text())).to.match(/expired/i);

      const page = await attacker.fetch(`/interaction/${theirs.uid}`);
      expectPage(page, 400);
    });

    it('answers a post without any interaction cookie (a fresh browser) with a 400 "expired" page, never a 500', async () => {
      const user = await registerUser(server.url);
      const { uid, csrf } = await openLoginPage(new Browser(server.url));
      const fresh = new Browser(server.url);
      for (const action of ['login', 'register', 'abort']) {
        const { res } = await post(fresh, `/interaction/${uid}/${action}`,
          { username: user.username, password: user.password, confirm: user.password, csrf });
        expectPage(res, 400);
        expect(alertOf(await res.text())).to.match(/expired/i);
      }
      const page = await fresh.fetch(`/interaction/${uid}`);
      expectPage(page, 400);
      expect(alertOf(await page.text())).to.match(/expired/i);
      const unknown = await fresh.fetch('/interaction/no-such-interaction');
      expectPage(unknown, 400);
    });
  });

  describe('Cancel', () => {
    it('ends at /callback?error=access_denied&state=… and the callback page shows the error', async () => {
      const browser = new Browser(server.url);
      const { html } = await openLoginPage(browser);
      const cancel = formOf(html, '/abort');
      expect(cancel.buttons.map((b) => b.type)).to.include('submit');
      expect(html).to.match(/<button[^>]*>Cancel<\/button>/);

      const { res, url } = await submitForm(browser, html, '/abort', {});
      expect(url.pathname).to.equal('/callback');
      expect(url.searchParams.get('error')).to.equal('access_denied');
      expect(url.searchParams.get('state')).to.equal('random_state');
      expect(url.searchParams.has('code')).to.equal(false);
      expectPage(res, 400);
      const page = await res.text();
      expect(page).to.include('Authorization failed');
      expect(page).to.include('access_denied');
      const description = url.searchParams.get('error_description');
      expect(description, 'an error_description').to.be.a('string').and.not.be.empty;
      expect(alertOf(page)).to.equal(description);
      expect(page).to.not.include('/assets/copy.js');
    });
  });

  describe('logout (end_session)', () => {
    async function logoutPage(browser: Browser) {
      const { res, url } = await browser.follow('/oauth/logout');
      expect(url.pathname).to.equal('/oauth/logout');
      expectPage(res, 200);
      return { res, html: await res.text() };
    }

    it('shows our logout page to a signed-in browser', async () => {
      const { browser } = await loggedInBrowser(server.url);
      const { res, html } = await logoutPage(browser);
      expect(html).to.include('<title>Sign out</title>');
      expect(html).to.include('/assets/style.css');
      const form = formOf(html, '/oauth/logout/confirm');
      expect(form.attrs.method).to.equal('post');
      expect(form.attrs.id).to.equal('op.logoutForm');
      expect(hiddenFields(form).xsrf).to.be.a('string').and.not.be.empty;
      expect(html).to.match(/<button type="submit" form="op\.logoutForm" value="yes" name="logout"[^>]*>Yes, sign me out<\/button>/);
      expect(res.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).to.equal('DENY');
      expect(res.headers.get('cache-control')).to.match(/no-store/);
    });

    it('"Yes, sign me out" signs the user out and shows the signed-out page; the next authorize shows the login page', async () => {
      const { browser } = await loggedInBrowser(server.url);
      const { html } = await logoutPage(browser);
      const { res, url } = await submitForm(browser, html, '/oauth/logout/confirm', { logout: 'yes' });
      expect(url.pathname).to.equal('/oauth/logout/success');
      expectPage(res, 200);
      const page = await res.text();
      expect(page).to.include('<title>Signed out</title>');
      expect(page).to.match(/You are signed out/);

      await openLoginPage(browser);
    });

    it('"No, stay signed in" keeps the session and does not say the user is signed out', async () => {
      const { browser } = await loggedInBrowser(server.url);
      const { html } = await logoutPage(browser);
      expect(html).to.match(/<button type="submit" form="op\.logoutForm"[^>]*>No, stay signed in<\/button>/);
      const { res } = await submitForm(browser, html, '/oauth/logout/confirm', {});
      const page = await res.text();

      const again = await browser.fetch(authorizeUrl(server.url));
      expect(new URL(again.headers.get('location') ?? '/', server.url).pathname, 'still signed in').to.equal('/callback');
      expect(page, 'the page after "No"').to.not.match(/You are signed out/);
    });

    it('refuses the confirmation without the xsrf token of the logout form', async () => {
      const { browser } = await loggedInBrowser(server.url);
      await logoutPage(browser);
      const { res } = await post(browser, '/oauth/logout/confirm', { logout: 'yes', xsrf: 'forged' });
      expect(res.status).to.equal(400);
      const again = await browser.fetch(authorizeUrl(server.url));
      expect(new URL(again.headers.get('location') ?? '/', server.url).pathname, 'still signed in').to.equal('/callback');
    });
  });

  describe('without JavaScript', () => {
    const scriptsOf = (html: string) => [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
      .map((m) => ({ attrs: attrsOf(m[1]!), inline: m[2]!.trim() }));

    /** Plain HTML: forms that post to a URL, and no script on the page except the callback page's own file. */
    function expectPlainHtml(html: string, what: string, allowedScripts: string[] = []) {
      const scripts = scriptsOf(html);
      expect(scripts.filter((s) => s.inline), `${what}: inline script`).to.deep.equal([]);
      expect(scripts.map((s) => s.attrs.src), `${what}: scripts`).to.deep.equal(allowedScripts);
      expect(html, `${what}: event handler attributes`).to.not.match(/\son[a-z]+\s*=/i);
      expect(html, `${what}: javascript: URLs`).to.not.match(/javascript:/i);
      for (const form of formsOf(html)) {
        expect(form.attrs.method?.toLowerCase(), `${what}: form method`).to.equal('post');
        const action = new URL(form.attrs.action ?? '', server.url);
        expect(action.origin, `${what}: form action ${action.href}`).to.equal(server.url);
        const submits = form.buttons.filter((b) => b.type === 'submit').length
          + (form.attrs.id ? [...html.matchAll(new RegExp(`<button[^>]*form="${form.attrs.id.replace('.', '\\.')}"`, 'g'))].length : 0);
        expect(submits, `${what}: a submit button for ${form.attrs.action}`).to.be.greaterThan(0);
      }
    }

    it('every page is plain HTML with plain forms; the callback page loads /assets/copy.js only', async () => {
      const user = await registerUser(server.url);
      const browser = new Browser(server.url);
      const login = await openLoginPage(browser);
      expectPlainHtml(login.html, 'login page');
      expect(formsOf(login.html)).to.have.length(2);

      const register = await (await browser.fetch(`/interaction/${login.uid}/register`)).text();
      expectPlainHtml(register, 'registration page');

      const failed = await submitForm(browser, login.html, '/login', { username: user.username, password: 'not the password' });
      expectPlainHtml(await failed.res.text(), 'login page with an error');

      const expired = await new Browser(server.url).fetch(`/interaction/${login.uid}`);
      expectPlainHtml(await expired.text(), 'error page');

      const callback = await submitForm(browser, login.html, '/login', { username: user.username, password: user.password });
      expect(callback.url.pathname).to.equal('/callback');
      expectPlainHtml(await callback.res.text(), 'callback page', ['/assets/copy.js']);

      const logout = await browser.follow('/oauth/logout');
      const logoutHtml = await logout.res.text();
      expectPlainHtml(logoutHtml, 'logout page');
      const done = await submitForm(browser, logoutHtml, '/oauth/logout/confirm', { logout: 'yes' });
      expectPlainHtml(await done.res.text(), 'signed-out page');
    });

    it('serves /assets/copy.js with a JavaScript content type', async () => {
      const res = await fetch(`${server.url}/assets/copy.js`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^(text|application)\/javascript\b/);
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(await res.text()).to.include("getElementById('copy')");
    });
  });
});
