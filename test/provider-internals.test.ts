import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import Provider, { type Configuration } from 'oidc-provider';
import {
  currentRequest, leaveSessionUnsaved, overridePostLogoutRedirectUriCheck, overrideRedirectUriCheck, withholdRedirect,
  wrapClientLookup, wrapModelAdapter, wrapUserCodeLookup,
} from '../src/oauth/provider-internals.js';

/*
 * src/oauth/provider-internals.ts holds every use of oidc-provider beyond its documented configuration. Each piece is
 * checked here on a bare provider of the installed version, over HTTP, against a control that shows the piece is
 * what makes the difference: an upgrade that moves one fails here, by name.
 */

const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const CLIENT = {
  client_id: 'rp',
  client_secret: 'rp-secret-rp-secret-rp-secret-rp',
  redirect_uris: ['https://rp.example/cb'],
  post_logout_redirect_uris: ['https://rp.example/out'],
};
const JWKS = { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] };

interface Bare {
  provider: Provider;
  url: string;
  stored: string[];
  close(): Promise<void>;
}

/** A provider of the installed version on an ephemeral port, its records kept in memory and their kinds listed in `stored`. */
async function bareProvider(configure: (provider: Provider) => void = () => {}, extra: Configuration = {}): Promise<Bare> {
  const stored: string[] = [];
  const records = new Map<string, unknown>();
  const adapter = class {
    constructor(readonly name: string) {}
    async upsert(id: string, payload: unknown) { stored.push(this.name); records.set(`${this.name}:${id}`, payload); }
    async find(id: string) { return records.get(`${this.name}:${id}`); }
    async findByUserCode() { return undefined; }
    async findByUid() { return undefined; }
    async consume() {}
    async destroy(id: string) { records.delete(`${this.name}:${id}`); }
    async revokeByGrantId() {}
  };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(url, {
    adapter: adapter as unknown as Configuration['adapter'],
    clients: [CLIENT],
    jwks: JWKS as Configuration['jwks'],
    cookies: { keys: ['a-cookie-key-of-enough-length-for-hmac'] },
    ttl: { Interaction: 600, Session: 600, Grant: 600 },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<p>${out.error}</p>`;
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx, form) => {
          ctx.body = form;
        },
      },
    },
    ...extra,
  });
  configure(provider);
  server.on('request', provider.callback());
  return { provider, url, stored, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function using<T>(bare: Promise<Bare>, run: (bare: Bare) => Promise<T>): Promise<T> {
  const started = await bare;
  try {
    return await run(started);
  } finally {
    await started.close();
  }
}

const authorize = (url: string, params: Record<string, string>) =>
  fetch(`${url}/auth?${new URLSearchParams({ client_id: CLIENT.client_id, response_type: 'code', scope: 'openid', ...params })}`, { redirect: 'manual' });

describe('the oidc-provider internals this server relies on (src/oauth/provider-internals.ts)', () => {
  it('package.json pins oidc-provider to the exact version installed, in the lockfile too', () => {
    const pinned = readJson('../package.json').dependencies['oidc-provider'];
    expect(pinned, 'an exact version, not a range').to.match(/^\d+\.\d+\.\d+$/);
    expect(readJson('../node_modules/oidc-provider/package.json').version).to.equal(pinned);
    expect(readJson('../package-lock.json').packages[''].dependencies['oidc-provider']).to.equal(pinned);
  });

  it('currentRequest: the request being served, inside the provider, and nothing outside one', async () => {
    expect(currentRequest()).to.equal(undefined);
    let seen: unknown;
    await using(bareProvider((provider) => provider.on('grant.error', (ctx) => {
      seen = currentRequest() === ctx;
    })), async ({ url }) => {
      const res = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_id: 'rp', client_secret: CLIENT.client_secret }),
      });
      expect(res.status).to.equal(400);
    });
    expect(seen).to.equal(true);
  });

  it('wrapClientLookup: sees the token endpoint\'s client lookup, before the client is authenticated', async () => {
    const looked: string[] = [];
    await using(bareProvider((provider) => wrapClientLookup(provider, (find) => async (id) => {
      looked.push(`${id}:${currentRequest()?.oidc.client ? 'authenticated' : 'not yet'}`);
      return find(id);
    })), async ({ url }) => {
      const res = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_id: 'rp', client_secret: 'wrong' }),
      });
      expect(res.status).to.equal(401);
    });
    expect(looked).to.deep.equal(['rp:not yet']);
  });

  it('wrapModelAdapter: the provider\'s own writes go through it (a registered client, a session)', async () => {
    const upserted: string[] = [];
    const watch = (provider: Provider, model: 'Client' | 'Session') => wrapModelAdapter(provider, model, ({ upsert }) => ({
      upsert: async (id, payload, expiresIn) => {
        upserted.push(`${model} ${currentRequest()?.oidc.route}`);
        return upsert(id, payload, expiresIn);
      },
    }));
    await using(bareProvider((provider) => {
      watch(provider, 'Client');
      watch(provider, 'Session');
    }), async ({ url, stored }) => {
      const res = await fetch(`${url}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://app.example/cb'] }),
      });
      expect(res.status).to.equal(201);
      expect((await fetch(`${url}/device`)).status).to.equal(200);
      expect(stored).to.include.members(['Client', 'Session']);
    });
    expect(upserted).to.deep.equal(['Client registration', 'Session code_verification']);
  });

  it('wrapUserCodeLookup: sees the user code entered on the device page, before any of the page\'s hooks', async () => {
    const entered: string[] = [];
    await using(bareProvider((provider) => wrapUserCodeLookup(provider, (find) => async (userCode, options) => {
      entered.push(`${userCode} ${currentRequest()?.oidc.route}`);
      return find(userCode, options);
    })), async ({ url }) => {
      const page = await fetch(`${url}/device`);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())?.[1];
      const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const res = await fetch(`${url}/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ xsrf: xsrf!, user_code: 'BCDF-GHJK' }),
      });
      expect(res.status).to.be.below(500);
    });
    expect(entered).to.deep.equal(['BCDFGHJK code_verification']);
  });

  it('overrideRedirectUriCheck: decides the authorization endpoint\'s redirect_uri check, told the provider\'s own answer', async () => {
    const asked: [string, boolean][] = [];
    await using(bareProvider((provider) => overrideRedirectUriCheck(provider, (client, uri, registered) => {
      asked.push([uri, registered]);
      return registered || (client.clientId === 'rp' && uri === 'https://rp.example/other');
    })), async ({ url }) => {
      const allowed = await authorize(url, { redirect_uri: 'https://rp.example/other' });
      expect(allowed.status, 'on to the sign-in').to.equal(303);
      expect(allowed.headers.get('location')).to.not.include('rp.example');
      expect((await authorize(url, { redirect_uri: 'https://rp.example/nope' })).status).to.equal(400);
    });
    expect(asked).to.deep.include(['https://rp.example/other', false]);
    expect(asked).to.deep.include(['https://rp.example/nope', false]);
  });

  it('overridePostLogoutRedirectUriCheck: decides end_session\'s post_logout_redirect_uri check', async () => {
    const asked: [string, boolean][] = [];
    await using(bareProvider((provider) => overridePostLogoutRedirectUriCheck(provider, (_client, uri, registered) => {
      asked.push([uri, registered]);
      return false;
    })), async ({ url }) => {
      const params = new URLSearchParams({ client_id: 'rp', post_logout_redirect_uri: 'https://rp.example/out' });
      expect((await fetch(`${url}/session/end?${params}`, { redirect: 'manual' })).status).to.equal(400);
    });
    expect(asked).to.deep.equal([['https://rp.example/out', true]]);
  });

  it('leaveSessionUnsaved: a session the request changed is not stored (the device code page stores one otherwise)', async () => {
    const devicePage = (unsaved: boolean) => bareProvider(() => {}, {
      features: {
        devInteractions: { enabled: false },
        deviceFlow: {
          enabled: true,
          userCodeInputSource: async (ctx, form) => {
            if (unsaved) leaveSessionUnsaved(ctx.oidc.session!);
            ctx.body = form;
          },
        },
      },
    });
    const sessionsStored = (unsaved: boolean) => using(devicePage(unsaved), async ({ url, stored }) => {
      expect((await fetch(`${url}/device`)).status).to.equal(200);
      return stored.filter((name) => name === 'Session').length;
    });
    expect(await sessionsStored(false), 'the control').to.equal(1);
    expect(await sessionsStored(true)).to.equal(0);
  });

  it('withholdRedirect: an authorization error becomes the error page instead of a redirect to the client', async () => {
    const answer = (withheld: boolean) => using(bareProvider((provider) => provider.on('authorization.error', (_ctx, err) => {
      if (withheld) withholdRedirect(err);
    })), ({ url }) => authorize(url, { redirect_uri: CLIENT.redirect_uris[0]!, prompt: 'none' }));
    const redirected = await answer(false);
    expect(redirected.status, 'the control').to.equal(303);
    expect(redirected.headers.get('location')).to.match(/^https:\/\/rp\.example\/cb\?error=login_required/);
    const withheld = await answer(true);
    expect(withheld.headers.get('location')).to.equal(null);
    // The provider's default renderError (the server has its own): a page naming the error.
    expect(await withheld.text()).to.include('login_required');
  });
});
