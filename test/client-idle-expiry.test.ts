import { expect } from 'chai';
import { Redis } from 'ioredis';
import { EXPIRY_SLACK_MS } from '../adapters/expiry.js';
import { requireRedis, uniquePrefix } from './helpers/redis.js';
import { json, pkce } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Issue 12: a client registered by open DCR expires after CLIENT_IDLE_TTL_DAYS without use, and each use extends
 * it (at most once a day). Time is simulated in Redis: lifetimes shortened with PEXPIRE, and the record's
 * last-extension mark moved back, as adapters/client-idle-expiry.ts keeps it.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const TTL_DAYS = 30;
const FULL_MS = TTL_DAYS * DAY_MS + EXPIRY_SLACK_MS;

describe('self-registered clients expire when unused (CLIENT_IDLE_TTL_DAYS, Redis, over HTTP)', () => {
  const redis = requireRedis();
  const prefix = uniquePrefix();
  let client: Redis;
  let server: TestServer;
  let registered: { clientId: string; token: string; redirectUri: string };
  const clientKey = () => `${prefix}Client:{${registered.clientId}}`;
  const tokenKey = () => `${prefix}RegistrationAccessToken:{${registered.token}}`;

  before(async () => {
    client = new Redis(redis.url);
    server = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, CLIENT_IDLE_TTL_DAYS: String(TTL_DAYS) });
    const redirectUri = 'http://127.0.0.1:45678/cb';
    const res = await fetch(`${server.url}/oauth/clients`, json({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }));
    expect(res.status, await res.clone().text()).to.equal(201);
    const body = await res.json();
    registered = { clientId: body.client_id, token: body.registration_access_token, redirectUri };
  });
  after(async () => {
    await server?.close();
    if (!client) return;
    const keys = await client.keys(`${prefix}*`);
    if (keys.length) await client.del(...keys);
    await client.quit();
  });

  /** The start of an authorization request: the provider loads the client, and answers 400 if there is none. */
  const authorize = async () => {
    const url = new URL('/oauth/authorize', server.url);
    url.search = new URLSearchParams({
      client_id: registered.clientId, redirect_uri: registered.redirectUri, response_type: 'code',
      code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'xyz',
    }).toString();
    return (await fetch(url, { redirect: 'manual' })).status;
  };
  const readRegistration = async () => (await fetch(`${server.url}/oauth/clients/${registered.clientId}`, {
    headers: { authorization: `Bearer ${registered.token}` },
  })).status;

  it('a registered client and its registration access token are kept for CLIENT_IDLE_TTL_DAYS', async () => {
    expect(await client.pttl(clientKey())).to.be.within(FULL_MS - 60_000, FULL_MS);
    expect(await client.pttl(tokenKey())).to.be.within(FULL_MS - 60_000, FULL_MS);
    expect(await authorize()).to.equal(303);
    expect(await readRegistration()).to.equal(200);
  });

  it('uses within a day of the last extension do not write', async () => {
    await client.pexpire(clientKey(), 10 * DAY_MS);
    expect(await authorize()).to.equal(303);
    expect(await client.pttl(clientKey())).to.be.at.most(10 * DAY_MS);
  });

  it('a use a day or more after the last extension gives the client and its token the full lifetime again', async () => {
    const payload = JSON.parse((await client.hget(clientKey(), 'payload'))!);
    payload._idleExpiry.extendedAt -= 2 * 24 * 60 * 60;
    await client.hset(clientKey(), 'payload', JSON.stringify(payload));
    await client.pexpire(clientKey(), 28 * DAY_MS);
    await client.pexpire(tokenKey(), 28 * DAY_MS);
    expect(await authorize()).to.equal(303);
    expect(await client.pttl(clientKey())).to.be.within(FULL_MS - 60_000, FULL_MS);
    expect(await client.pttl(tokenKey())).to.be.within(FULL_MS - 60_000, FULL_MS);
  });

  it('once its lifetime ran out, the client is gone: authorization and its registration access token are refused', async () => {
    await client.pexpire(clientKey(), 1);
    await client.pexpire(tokenKey(), 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await authorize()).to.equal(400);
    expect(await readRegistration()).to.equal(401);
    expect(await client.exists(clientKey(), tokenKey())).to.equal(0);
  });
});
