import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { StorageUnavailable } from '../adapters/errors.js';
import { createStores } from '../adapters/index.js';
import { classify, describeTopology } from '../adapters/redis/client.js';
import { loadConfig } from '../config/env.js';
import { createLogger } from '../src/log.js';
import { callTool, mcpPost, mcpToken, noteTexts, revoke, toolCall } from './helpers/mcp.js';
import { freePort, uniquePrefix } from './helpers/redis.js';
import { ask, OwnCluster, OwnSentinelGroup, SENTINEL_NAME, useTopology, waitFor } from './helpers/redis-topologies.js';
import { form, json, tokensFor, uniqueName, type Tokens } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { connect, refresh, registerHost } from './helpers/third-party.js';
import { Browser } from './helpers/browser.js';

/*
 * The server on a Redis Cluster (three masters, a replica each) and on a Sentinel group (a primary, a replica, three
 * sentinels), all started here: the seed flow and the MCP tools work on both, instances share state and
 * revocations, a REDIS_URL pointed at either is refused with the variables to set, and a failover in the middle of
 * writes costs a few seconds of 503s and no acknowledged write.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

/** Servers opened by a suite, closed by its after hook however its tests ended; `log` gets their log lines. */
function serverPool() {
  const open: TestServer[] = [];
  after(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (env: Record<string, string>, log?: string[]) => {
    const sink = log && new Writable({ write(chunk, _encoding, done) { log.push(String(chunk)); done(); } });
    const server = await startTestServer(sink ? { LOG_LEVEL: 'info', ...env } : env, {}, sink);
    open.push(server);
    return server;
  };
}

/** The outage lines of a log: one when storage went away, one when it was back, never two of a kind in a row. */
function expectOutagesLoggedOnce(log: string[]) {
  const outages = log.map((line) => JSON.parse(line).msg as string)
    .filter((msg) => / is (unreachable|reachable again)/.test(msg))
    .map((msg) => (msg.includes('unreachable') ? 'down' : 'back'));
  expect(outages.length, 'outage lines').to.be.greaterThan(0);
  expect(outages.filter((kind, i) => kind === (i % 2 ? 'back' : 'down')), outages.join(' ')).to.have.length(outages.length);
  expect(outages.at(-1)).to.equal('back');
}

/** The seed flow (register, login, authorize, token, userinfo, refresh), then a note through the MCP tools. */
async function seedFlowAndMcp(base: string): Promise<void> {
  const { user, tokens } = await tokensFor(base);
  const info = await fetch(`${base}/oauth/userinfo`, bearer(tokens.access_token));
  expect(info.status).to.equal(200);
  expect(await info.json()).to.include({ id: user.userId, username: user.username });
  const refreshed = await fetch(`${base}/oauth/token`, form({
    grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'client1', client_secret: 'secret1',
  }));
  expect(refreshed.status).to.equal(200);
  expect((await fetch(`${base}/oauth/userinfo`, bearer((await refreshed.json() as Tokens).access_token))).status).to.equal(200);

  const { token } = await mcpToken(base);
  expect((await callTool(base, token, 'notes_add', { text: 'on the topology' })).isError).to.equal(undefined);
  expect(noteTexts(await callTool(base, token, 'notes_list'))).to.deep.equal(['on the topology']);
  expect((await fetch(`${base}/readyz`)).status).to.equal(200);
}

/**
 * An MCP host's journey: it registers itself (DCR), a user signs up, signs in and allows it (PKCE, resource), the
 * host calls a tool with its token, refreshes, and calls again; then the consent is remembered for the next one.
 */
async function hostJourney(base: string): Promise<void> {
  const host = await registerHost(base);
  const user = { username: uniqueName('host-user'), password: 'password123' };
  expect((await fetch(`${base}/oauth/register`, json(user))).status).to.equal(201);
  const browser = new Browser(base);
  const { tokens, consentPage } = await connect(browser, host, user);
  expect(consentPage, 'a consent page for the third-party host').to.be.a('string');
  expect((await callTool(base, tokens.access_token, 'notes_add', { text: 'from the host' })).isError).to.equal(undefined);
  const refreshed = await refresh(base, host, tokens.refresh_token);
  expect(refreshed.status).to.equal(200);
  const again = await refreshed.json() as Tokens;
  expect(noteTexts(await callTool(base, again.access_token, 'notes_list'))).to.deep.equal(['from the host']);
  const next = await connect(browser, host, user);
  expect(next.consentPage, 'the remembered consent: no second consent page').to.equal(undefined);
}

/** A token revoked on instance A stops working on instance B, which had it cached, within a second. */
async function revocationReachesOtherInstance(env: Record<string, string>, start: (env: Record<string, string>) => Promise<TestServer>) {
  const portA = await freePort();
  const portB = await freePort();
  const issuer = `http://localhost:${portA}`;
  const shared = { ...env, REDIS_PREFIX: uniquePrefix(), ISSUER: issuer };
  await start({ ...shared, PORT: String(portA) });
  await start({ ...shared, PORT: String(portB), MCP_ALLOWED_HOSTS: `127.0.0.1:${portB}` });
  const baseB = `http://127.0.0.1:${portB}`;
  const { token } = await mcpToken(issuer);
  expect((await callTool(baseB, token, 'notes_add', { text: 'written on B' })).isError).to.equal(undefined);
  expect(noteTexts(await callTool(issuer, token, 'notes_list'))).to.deep.equal(['written on B']);

  expect((await revoke(issuer, token)).status).to.equal(200);
  const revokedAt = Date.now();
  let res = await mcpPost(baseB, token, toolCall('notes_list'));
  while (res.status === 200 && Date.now() - revokedAt < 1000) {
    await sleep(20);
    res = await mcpPost(baseB, token, toolCall('notes_list'));
  }
  expect(res.status, 'B still accepts the revoked token').to.equal(401);
}

interface FailoverRun {
  acknowledged: number;
  /** 503s, and MCP tool errors that say "try again". */
  unavailable: number;
  /** Anything else: a 500, a 401, a tool error of another kind. */
  unexpected: string[];
  /** Acknowledged writes missing afterwards. */
  lost: string[];
  /** From the start of the disruption to the last unavailable answer. */
  unavailableForMs: number;
}

/**
 * Four writers adding notes through the MCP tool (a user each, so their notes lie in different slots) and one
 * registering accounts, before, during and after `disrupt`, until no write has failed for two seconds. Then every
 * acknowledged note must be listed and every acknowledged account stored.
 */
async function writesThroughFailover(
  base: string, disrupt: () => Promise<void>, accountStored: (username: string) => Promise<boolean>,
): Promise<FailoverRun> {
  const writers = await Promise.all([0, 1, 2, 3].map(() => mcpToken(base)));
  const run: FailoverRun = { acknowledged: 0, unavailable: 0, unexpected: [], lost: [], unavailableForMs: 0 };
  let stop = false;
  let disruptedAt = 0;
  let lastUnavailableAt = 0;
  const unavailable = () => {
    run.unavailable++;
    lastUnavailableAt = Date.now();
  };

  const noteWriter = async (token: string, writer: number): Promise<string[]> => {
    const acknowledged: string[] = [];
    for (let n = 0; !stop; n++) {
      const text = `writer ${writer} note ${n}`;
      const res = await mcpPost(base, token, toolCall('notes_add', { text }));
      const body = await res.text();
      const result = res.status === 200 ? JSON.parse(body).result : undefined;
      if (result && !result.isError) {
        acknowledged.push(text);
        run.acknowledged++;
      } else if (res.status === 503 || (result?.isError && /try again/i.test(JSON.stringify(result.content)))) {
        unavailable();
      } else {
        run.unexpected.push(`notes_add: ${res.status} ${body.slice(0, 200)}`);
      }
      await sleep(20);
    }
    return acknowledged;
  };
  const accountWriter = async (): Promise<string[]> => {
    const acknowledged: string[] = [];
    while (!stop) {
      const username = uniqueName('failover');
      const res = await fetch(`${base}/oauth/register`, json({ username, password: 'password123' }));
      const body = await res.text();
      if (res.status === 201) {
        acknowledged.push(username);
        run.acknowledged++;
      } else if (res.status === 503 && res.headers.get('retry-after') && JSON.parse(body).error === 'temporarily_unavailable') {
        unavailable();
      } else {
        run.unexpected.push(`register: ${res.status} ${body.slice(0, 200)}`);
      }
      await sleep(20);
    }
    return acknowledged;
  };

  const notes = Promise.all(writers.map(({ token }, i) => noteWriter(token, i)));
  const accounts = accountWriter();
  await sleep(1000);
  disruptedAt = Date.now();
  await disrupt();
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline && Date.now() - Math.max(lastUnavailableAt, disruptedAt) < 2000) await sleep(100);
  stop = true;
  const [written, registered] = await Promise.all([notes, accounts]);
  run.unavailableForMs = lastUnavailableAt ? lastUnavailableAt - disruptedAt : 0;

  for (const [i, { token }] of writers.entries()) {
    const listed = new Set(noteTexts(await callTool(base, token, 'notes_list')));
    run.lost.push(...written[i]!.filter((text) => !listed.has(text)));
  }
  for (const username of registered) if (!(await accountStored(username))) run.lost.push(`account ${username}`);
  return run;
}

function expectSurvived(run: FailoverRun, label: string, withinMs: number) {
  console.log(`      ${label}: ${run.acknowledged} writes acknowledged, ${run.lost.length} lost, `
    + `${run.unavailable} answered 503 / "try again" over ${(run.unavailableForMs / 1000).toFixed(1)} s, ${run.unexpected.length} other answers`);
  expect(run.unexpected, 'answers other than success or 503').to.deep.equal([]);
  expect(run.lost, 'acknowledged writes lost').to.deep.equal([]);
  expect(run.acknowledged).to.be.greaterThan(50);
  expect(run.unavailableForMs, 'time until writes succeed again').to.be.below(withinMs);
}

describe('Redis topologies', function () {
  this.timeout(60_000);

  it('cluster and sentinel failures are outages (503), not bugs', () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    for (const err of [
      reply('CLUSTERDOWN The cluster is down'),
      reply('TRYAGAIN Multiple keys request during rehashing of slot'),
      reply("READONLY You can't write against a read only replica."),
      reply('NOREPLICAS Not enough good replicas to write.'),
      reply('ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.'),
      reply('MOVED 3999 127.0.0.1:7002'),
      new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 3999 127.0.0.1:7002'),
      new Error('Failed to refresh slots cache.'),
      Object.assign(new Error('Failed to refresh slots cache.'), { name: 'ClusterAllFailedError' }),
      new Error("Cluster isn't ready and enableOfflineQueue options is false"),
      new Error('None of startup nodes is available'),
      Object.assign(new Error('Command aborted due to connection close'), { name: 'AbortError' }),
      new Error('All sentinels are unreachable. Retrying from scratch after 100ms.'),
    ]) {
      expect(classify(err), err.message).to.be.instanceOf(StorageUnavailable);
    }
    const bug = reply('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(classify(bug)).to.equal(bug);
  });

  it('names the topology in logs without its passwords', () => {
    const access = { username: 'app', password: 'data-secret', tls: true };
    expect(describeTopology({ kind: 'cluster', nodes: [{ host: 'r1', port: 7000 }, { host: '::1', port: 7001 }], ...access }))
      .to.equal('Redis Cluster through r1:7000,[::1]:7001 (TLS, user app, password)');
    expect(describeTopology({
      kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster', sentinelUsername: 'w', sentinelPassword: 'sentinel-secret', ...access,
    })).to.equal('Redis primary "mymaster" through the sentinels s1:26379 (TLS, user app, password)');
    expect(describeTopology({ kind: 'standalone', url: 'rediss://app:url-secret@r1:6380' })).to.equal('Redis at rediss://app:***@r1:6380');
  });

  describe('on a Redis Cluster', () => {
    const cluster = useTopology(OwnCluster.launch);
    const start = serverPool();
    const onCluster = (extra: Record<string, string> = {}) => start({ REDIS_CLUSTER_NODES: cluster.it.nodeList, REDIS_PREFIX: uniquePrefix(), ...extra });

    it('serves the seed flow, the MCP tools and an MCP host\'s journey, with its keys spread over the masters', async () => {
      const prefix = uniquePrefix();
      const server = await onCluster({ REDIS_PREFIX: prefix });
      await seedFlowAndMcp(server.url);
      await hostJourney(server.url);
      const holders = [];
      for (const master of await cluster.it.masters()) {
        const [, keys] = await ask(master.port, 'SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '10000') as [string, string[]];
        if (keys.length) holders.push(master.port);
      }
      expect(holders.length, 'masters holding keys').to.be.greaterThan(1);
    });

    it('two instances on the cluster: a revocation on one reaches the token cache of the other', async () => {
      await revocationReachesOtherInstance({ REDIS_CLUSTER_NODES: cluster.it.nodeList }, start);
    });

    it('a REDIS_URL naming a cluster node is refused at start, with the variable to set', async () => {
      const config = loadConfig({ REDIS_URL: cluster.it.nodes[0]!.url, REDIS_PREFIX: uniquePrefix() });
      let refused: unknown;
      await createStores(config, createLogger('silent')).catch((err: unknown) => { refused = err; });
      expect(String(refused)).to.match(/REDIS_URL names a node of a Redis Cluster.*set REDIS_CLUSTER_NODES/);
    });

    it('a master killed in the middle of writes: 503s for a few seconds, then writes again, and no acknowledged write lost', async function () {
      this.timeout(90_000);
      const prefix = uniquePrefix();
      const log: string[] = [];
      const server = await start({ REDIS_CLUSTER_NODES: cluster.it.nodeList, REDIS_PREFIX: prefix, REDIS_WAIT_REPLICAS: '1' }, log);
      const verifier = new Cluster(cluster.it.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
      try {
        const run = await writesThroughFailover(server.url, async () => {
          const [victim] = await cluster.it.masters();
          await victim!.stop();
          // As an orchestrator would: the dead node comes back, and rejoins as the replica of its successor.
          await waitFor('the failover', async () => (await cluster.it.masters()).length === 3);
          await victim!.start();
          await cluster.it.settled(30_000);
        }, async (username) => (await verifier.exists(`${prefix}account:{${username.toLowerCase()}}`)) === 1);
        expectSurvived(run, 'cluster, master killed, REDIS_WAIT_REPLICAS=1', 15_000);
        expectOutagesLoggedOnce(log);
      } finally {
        verifier.disconnect();
      }
    });
  });

  describe('on a Sentinel group', () => {
    const group = useTopology(OwnSentinelGroup.launch);
    const start = serverPool();
    const sentinelEnv = () => ({ REDIS_SENTINELS: group.it.sentinelList, REDIS_SENTINEL_NAME: SENTINEL_NAME });

    it('serves the seed flow, the MCP tools and an MCP host\'s journey', async () => {
      const server = await start({ ...sentinelEnv(), REDIS_PREFIX: uniquePrefix() });
      await seedFlowAndMcp(server.url);
      await hostJourney(server.url);
    });

    it('two instances on the group: a revocation on one reaches the token cache of the other', async () => {
      await revocationReachesOtherInstance(sentinelEnv(), start);
    });

    it('a REDIS_URL naming a sentinel is refused at start, with the variables to set', async () => {
      const config = loadConfig({ REDIS_URL: group.it.sentinels[0]!.url });
      let refused: unknown;
      await createStores(config, createLogger('silent')).catch((err: unknown) => { refused = err; });
      expect(String(refused)).to.match(/REDIS_URL names a Redis Sentinel.*set REDIS_SENTINELS and REDIS_SENTINEL_NAME/);
    });

    it('more replicas asked (REDIS_WAIT_REPLICAS) than confirm: writes that must survive answer 503, reads go on', async () => {
      const server = await start({ ...sentinelEnv(), REDIS_PREFIX: uniquePrefix(), REDIS_WAIT_REPLICAS: '2', REDIS_WAIT_TIMEOUT_MS: '50' });
      const res = await fetch(`${server.url}/oauth/register`, json({ username: uniqueName(), password: 'password123' }));
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('2');
      expect(await res.json()).to.include({ error: 'temporarily_unavailable' });
      expect((await fetch(`${server.url}/.well-known/openid-configuration`)).status).to.equal(200);
      expect((await fetch(`${server.url}/readyz`)).status).to.equal(200);
    });

    it('SENTINEL FAILOVER in the middle of writes: the client follows the new primary, no acknowledged write lost', async function () {
      this.timeout(90_000);
      const prefix = uniquePrefix();
      const log: string[] = [];
      const server = await start({ ...sentinelEnv(), REDIS_PREFIX: prefix, REDIS_WAIT_REPLICAS: '1' }, log);
      const before = await group.it.primary();
      const verifier = new Redis({ sentinels: group.it.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: SENTINEL_NAME });
      try {
        const run = await writesThroughFailover(server.url, async () => {
          await ask(group.it.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', SENTINEL_NAME);
          await waitFor('the new primary', async () => (await group.it.primary()) !== before);
          await group.it.settled();
        }, async (username) => (await verifier.exists(`${prefix}account:{${username.toLowerCase()}}`)) === 1);
        expect(await group.it.primary()).to.not.equal(before);
        // The sentinels turn the old primary into the new one's replica only after it has reported itself a master
        // for 8 s: until then the one replica WAIT asks for does not exist, and writes that must survive answer 503.
        expectSurvived(run, 'sentinel, SENTINEL FAILOVER, REDIS_WAIT_REPLICAS=1', 25_000);
        expectOutagesLoggedOnce(log);
      } finally {
        verifier.disconnect();
      }
    });

    it('after SENTINEL FAILOVER, writes go to the new primary within seconds, not to the old one, still a primary for 8 s', async function () {
      this.timeout(60_000);
      const prefix = uniquePrefix();
      const server = await start({ ...sentinelEnv(), REDIS_PREFIX: prefix });
      const { token, user } = await mcpToken(server.url);
      const before = await group.it.primary();
      await ask(group.it.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', SENTINEL_NAME);
      await waitFor('the new primary', async () => (await group.it.primary()) !== before);
      const after = await group.it.primary();
      const notesOn = async (port: number) => Number(await ask(port, 'HLEN', `${prefix}notes:{${user.userId}}`));
      const promotedAt = Date.now();
      while (Date.now() - promotedAt < 3000 && (await notesOn(after.port)) === 0) {
        await mcpPost(server.url, token, toolCall('notes_add', { text: 'after the failover' }));
        await sleep(100);
      }
      expect(await notesOn(after.port), 'notes written on the new primary').to.be.greaterThan(0);
    });
  });
});
