import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import { withClientIdleExpiry } from '../adapters/client-idle-expiry.js';
import { StorageUnavailable } from '../adapters/errors.js';
import { EXPIRY_SLACK_MS, retentionMs } from '../adapters/expiry.js';
import { ForwardingAdapter } from '../adapters/forwarding.js';
import { MemoryAccountStore } from '../adapters/memory/accounts.js';
import { MemoryConsentStore } from '../adapters/memory/consents.js';
import { memoryOidcStorage } from '../adapters/memory/oidc-adapter.js';
import { RedisAccountStore } from '../adapters/redis/accounts.js';
import type { RedisClient } from '../adapters/redis/client.js';
import { RedisConsentStore } from '../adapters/redis/consents.js';
import { RedisKeyVault } from '../adapters/redis/key-material.js';
import { MemoryNotesStore } from '../adapters/memory/notes.js';
import { RedisNotesStore } from '../adapters/redis/notes.js';
import { redisOidcStorage } from '../adapters/redis/oidc-adapter.js';
import { NOTE_ID, type Account, type AccountStore, type Consent, type ConsentStore, type NotesStore, type OidcStorage, type StoredRecord } from '../adapters/stores.js';
import { requireRedis, uniquePrefix } from './helpers/redis.js';
import { OwnCluster, useTopology } from './helpers/redis-topologies.js';

/**
 * One contract, every backing: the memory and Redis oidc-provider adapters must behave alike (the provider
 * cannot tell them apart), and so must the memory and Redis account stores. Where Redis can say more (TTLs,
 * keys left behind) the contract also looks at the keys, through the layout documented in
 * adapters/redis/oidc-adapter.ts.
 */

/** A nanoid-like random id. */
const rid = () => randomBytes(15).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sleepUntil = (t: number) => sleep(Math.max(0, t - Date.now()));
const epochSeconds = () => Math.floor(Date.now() / 1000);

/** How long after an upsert with expiresIn=1 the record is surely gone: retention plus a margin. */
const GONE_AFTER_MS = retentionMs(1)! + 200;

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  expect.fail('expected a rejection, but it resolved');
}

const describeError = (err: any) => `${err?.name}: ${err?.error ?? err?.message}${err?.cause ? ` (cause: ${err.cause.name}: ${err.cause.error ?? err.cause.message})` : ''}`;

function expectInvalidGrant(err: any) {
  expect(err, describeError(err)).to.be.instanceOf(errors.InvalidGrant);
  expect(err.error).to.equal('invalid_grant');
  expect(err.statusCode).to.equal(400);
}

function expectStorageUnavailable(err: any) {
  expect(err, describeError(err)).to.be.instanceOf(StorageUnavailable);
  expect(err.error).to.equal('temporarily_unavailable');
  expect(err.statusCode).to.equal(503);
}

/** Deletes every key under a test prefix (the suite's Redis may be a shared one), on every master of a cluster. */
async function deleteKeys(client: RedisClient, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  for (const node of client instanceof Cluster ? client.nodes('master') : [client]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      // One key per DEL: on a cluster node, the keys of one call must share a slot.
      await Promise.all(keys.map((key) => node.del(key)));
      cursor = next;
    } while (cursor !== '0');
  }
}

/** How many of the keys exist, asked one by one (on a cluster they lie in different slots). */
const countExisting = async (client: RedisClient, keys: string[]) =>
  (await Promise.all(keys.map((key) => client.exists(key)))).reduce((sum, n) => sum + n, 0);

/** The Redis keys behind a storage, per the layout in adapters/redis/oidc-adapter.ts. */
class RedisView {
  constructor(readonly client: RedisClient, readonly prefix: string) {}
  record = (model: string, id: string) => `${this.prefix}${model}:{${id}}`;
  uid = (model: string, uid: string) => `${this.prefix}${model}:uid:{${uid}}`;
  userCode = (model: string, code: string) => `${this.prefix}${model}:userCode:{${code}}`;
  grant = (grantId: string) => `${this.prefix}grant:{${grantId}}`;
  accountRecords = (accountId: string) => `${this.prefix}account-records:{${accountId}}`;
  clientGrants = (clientId: string) => `${this.prefix}client-grants:{${clientId}}`;
  exists = (...keys: string[]) => countExisting(this.client, keys);
  pttl = (key: string) => this.client.pttl(key);
}

interface OidcBacking {
  storage: OidcStorage;
  /** Redis only: the client and key layout, for what only Redis can show. */
  redis?: RedisView;
  close(): Promise<void>;
}

function tokenPayload(extra: Partial<AdapterPayload> = {}): AdapterPayload {
  const iat = epochSeconds();
  return {
    jti: rid(),
    iat,
    exp: iat + 3600,
    accountId: `acc-${rid()}`,
    clientId: `client-${rid()}`,
    grantId: rid(),
    scope: 'openid profile',
    ...extra,
  };
}

/** A factory whose adapters count the writes they pass on, to see which calls write. */
function countingWrites(factory: AdapterFactory): { factory: AdapterFactory; writes: string[] } {
  const writes: string[] = [];
  class Counting extends ForwardingAdapter {
    constructor(private readonly name: string) {
      super(factory(name));
    }

    override upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
      writes.push(`${this.name}:${id}`);
      return this.inner.upsert(id, payload, expiresIn);
    }
  }
  return { factory: (name) => new Counting(name), writes };
}

/** Client metadata as the provider stores a self-registered client. */
const clientMetadata = (clientId: string): AdapterPayload => ({
  client_id: clientId,
  client_id_issued_at: 1_700_000_000,
  client_name: 'A host',
  redirect_uris: ['http://127.0.0.1/callback'],
  token_endpoint_auth_method: 'none',
});

/** The oidc-provider adapter contract, declared once and run against each backing. */
function contract(name: string, makeStorage: () => OidcBacking) {
  describe(`oidc adapter contract: ${name}`, () => {
    describe('records', () => {
      let backing: OidcBacking;
      const adapter = (model: string): Adapter => backing.storage.factory(model);
      beforeEach(() => { backing = makeStorage(); });
      afterEach(() => backing.close());

      it('upsert then find round-trips the payload deeply', async () => {
        const id = rid();
        const payload = tokenPayload({
          kind: 'AccessToken',
          claims: { userinfo: { email: { essential: true }, name: null }, id_token: {} },
          extra: {
            nested: { list: [1, 'two', { three: [3, 3.5, -0.25] }], empty: [], emptyObject: {} },
            flags: { yes: true, no: false },
            zero: 0,
            big: 2 ** 53 - 1,
            text: 'Grüße, 世界 🌍 — "quoted" \\ back\nslash\ttab',
          },
          scope: '',
          aud: ['https://api.example', 'https://other.example'],
        });
        const expected = structuredClone(payload);
        await adapter('AccessToken').upsert(id, payload, 3600);
        expect(await adapter('AccessToken').find(id)).to.deep.equal(expected);
      });

      it('find, findByUid and findByUserCode of unknown values give undefined', async () => {
        await adapter('AccessToken').upsert(rid(), tokenPayload(), 60);
        expect(await adapter('AccessToken').find(rid())).to.equal(undefined);
        expect(await adapter('Session').findByUid(rid())).to.equal(undefined);
        expect(await adapter('DeviceCode').findByUserCode(rid())).to.equal(undefined);
      });

      it('payloads are copies: mutating what was passed or what find returned changes nothing stored', async () => {
        const id = rid();
        const payload = tokenPayload({ extra: { list: [1, 2], inner: { n: 1 } } });
        const expected = structuredClone(payload);
        const at = adapter('AccessToken');
        await at.upsert(id, payload, 60);

        payload.scope = 'changed';
        (payload.extra!.list as number[]).push(3);
        (payload.extra!.inner as { n: number }).n = 2;
        expect(await at.find(id)).to.deep.equal(expected);

        const found = (await at.find(id))!;
        found.accountId = 'changed';
        (found.extra!.list as number[]).length = 0;
        found.consumed = 1;
        expect(await at.find(id)).to.deep.equal(expected);
      });

      it('upsert again replaces the whole record: dropped fields, and a consumed mark, are gone', async () => {
        const ac = adapter('AuthorizationCode');
        const [viaConsume, viaPayload] = [rid(), rid()];
        const first = tokenPayload({ nonce: 'n-1', extra: { a: 1 } });
        await ac.upsert(viaConsume, first, 60);
        await ac.consume(viaConsume);
        await ac.upsert(viaPayload, { ...first, consumed: epochSeconds() }, 60);

        const second = tokenPayload({ extra: { b: 2 } });
        delete second.scope;
        await ac.upsert(viaConsume, second, 60);
        await ac.upsert(viaPayload, second, 60);

        for (const id of [viaConsume, viaPayload]) {
          const found = await ac.find(id);
          expect(found, id === viaConsume ? 'the record that was consume()d' : 'the record upserted with consumed').to.deep.equal(second);
          // not consumed any more, so it can be consumed once again
          await ac.consume(id);
          expect((await ac.find(id))!.consumed).to.be.a('number');
        }
      });

      it('models are namespaced: one id under two model names is two records', async () => {
        const id = rid();
        const token = tokenPayload({ kind: 'AccessToken' });
        const code = tokenPayload({ kind: 'AuthorizationCode' });
        await adapter('AccessToken').upsert(id, token, 60);
        await adapter('AuthorizationCode').upsert(id, code, 60);
        expect(await adapter('AccessToken').find(id)).to.deep.equal(token);
        expect(await adapter('AuthorizationCode').find(id)).to.deep.equal(code);
        expect(await adapter('RefreshToken').find(id)).to.equal(undefined);

        await adapter('AuthorizationCode').consume(id);
        expect((await adapter('AccessToken').find(id))!.consumed).to.equal(undefined);
        await adapter('AuthorizationCode').destroy(id);
        expect(await adapter('AuthorizationCode').find(id)).to.equal(undefined);
        expect(await adapter('AccessToken').find(id)).to.deep.equal(token);
      });

      it('consume sets consumed (epoch seconds), visible through find, and keeps the rest', async () => {
        const id = rid();
        const payload = tokenPayload();
        const ac = adapter('AuthorizationCode');
        await ac.upsert(id, payload, 60);
        const before = epochSeconds();
        await ac.consume(id);
        const after = epochSeconds();
        const found = (await ac.find(id))!;
        expect(found.consumed).to.be.a('number').within(before, after);
        expect(found).to.deep.equal({ ...payload, consumed: found.consumed });
      });

      it('a second consume throws invalid_grant and leaves the first mark', async () => {
        const id = rid();
        const rt = adapter('RefreshToken');
        await rt.upsert(id, tokenPayload(), 60);
        await rt.consume(id);
        const { consumed } = (await rt.find(id))!;
        expectInvalidGrant(await rejection(rt.consume(id)));
        expect((await rt.find(id))!.consumed).to.equal(consumed);
      });

      it('of 50 concurrent consume() calls on one record exactly one succeeds', async () => {
        const id = rid();
        await adapter('AuthorizationCode').upsert(id, tokenPayload(), 60);
        // a fresh adapter per call, as the provider makes per request
        const results = await Promise.allSettled(Array.from({ length: 50 }, () => adapter('AuthorizationCode').consume(id)));
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
        expect(rejected).to.have.length(49);
        for (const r of rejected) expectInvalidGrant(r.reason);
      });

      it('consume of a missing id throws invalid_grant and leaves no record behind', async () => {
        const id = rid();
        const ac = adapter('AuthorizationCode');
        expectInvalidGrant(await rejection(ac.consume(id)));
        expect(await ac.find(id)).to.equal(undefined);
        if (backing.redis) expect(await backing.redis.exists(backing.redis.record('AuthorizationCode', id))).to.equal(0);
      });

      it('a record upserted with consumed in its payload stays consumed', async () => {
        const id = rid();
        const consumed = epochSeconds() - 5;
        const rt = adapter('RefreshToken');
        await rt.upsert(id, tokenPayload({ consumed }), 60);
        expect((await rt.find(id))!.consumed).to.equal(consumed);
        expectInvalidGrant(await rejection(rt.consume(id)));
        expect((await rt.find(id))!.consumed).to.equal(consumed);
      });

      it('findByUid finds a Session; after destroy it finds nothing (and no index is left)', async () => {
        const [id, uid] = [rid(), rid()];
        const session = { jti: id, uid, accountId: 'acc', loginTs: epochSeconds(), authorizations: { c1: { sid: rid(), grantId: rid() } } };
        const sessions = adapter('Session');
        await sessions.upsert(id, session, 600);
        expect(await sessions.findByUid(uid)).to.deep.equal(session);
        await sessions.destroy(id);
        expect(await sessions.findByUid(uid)).to.equal(undefined);
        expect(await sessions.find(id)).to.equal(undefined);
        if (backing.redis) expect(await backing.redis.exists(backing.redis.record('Session', id), backing.redis.uid('Session', uid))).to.equal(0);
      });

      it('findByUserCode finds a DeviceCode; after destroy it finds nothing (and no index is left)', async () => {
        const [id, userCode] = [rid(), 'WDJB-MJHT'];
        const code = tokenPayload({ userCode, deviceInfo: { ip: '127.0.0.1', ua: 'test' }, params: { client_id: 'c1', scope: 'openid' } });
        const codes = adapter('DeviceCode');
        await codes.upsert(id, code, 600);
        expect(await codes.findByUserCode(userCode)).to.deep.equal(code);
        await codes.destroy(id);
        expect(await codes.findByUserCode(userCode)).to.equal(undefined);
        if (backing.redis) {
          const r = backing.redis;
          expect(await r.exists(r.record('DeviceCode', id), r.userCode('DeviceCode', userCode))).to.equal(0);
        }
      });

      it('after a re-upsert of the same id with a new uid and user code, the new ones find it', async () => {
        const id = rid();
        await adapter('Session').upsert(id, { uid: rid(), accountId: 'a' }, 600);
        await adapter('DeviceCode').upsert(id, tokenPayload({ userCode: 'OLD-CODE' }), 600);
        const session = { uid: rid(), accountId: 'b' };
        const code = tokenPayload({ userCode: 'NEW-CODE' });
        await adapter('Session').upsert(id, session, 600);
        await adapter('DeviceCode').upsert(id, code, 600);
        expect(await adapter('Session').findByUid(session.uid)).to.deep.equal(session);
        expect(await adapter('DeviceCode').findByUserCode('NEW-CODE')).to.deep.equal(code);
      });

      it('after a re-upsert of the same id with a new uid and user code, the old ones find nothing', async () => {
        const id = rid();
        const oldUid = rid();
        await adapter('Session').upsert(id, { uid: oldUid, accountId: 'a' }, 600);
        await adapter('DeviceCode').upsert(id, tokenPayload({ userCode: 'OLD-CODE' }), 600);
        await adapter('Session').upsert(id, { uid: rid(), accountId: 'b' }, 600);
        await adapter('DeviceCode').upsert(id, tokenPayload({ userCode: 'NEW-CODE' }), 600);
        // Finding a record by a uid or user code it no longer has would hand out somebody else's session.
        expect(await adapter('Session').findByUid(oldUid), 'findByUid(old uid)').to.equal(undefined);
        expect(await adapter('DeviceCode').findByUserCode('OLD-CODE'), 'findByUserCode(old code)').to.equal(undefined);
      });

      it('destroying a record after another took its uid and user code over leaves them to the other (compare and delete)', async () => {
        // The provider rotates a session's id at every sign-in and keeps its uid; spend-last.ts removes the old session
        // once the request has succeeded, after the new one was saved.
        const [oldId, newId, uid, userCode] = [rid(), rid(), rid(), `UC-${rid()}`];
        const session = { uid, accountId: 'a' };
        const code = tokenPayload({ userCode });
        for (const id of [oldId, newId]) {
          await adapter('Session').upsert(id, session, 600);
          await adapter('DeviceCode').upsert(id, code, 600);
        }
        await adapter('Session').destroy(oldId);
        await adapter('DeviceCode').destroy(oldId);
        expect(await adapter('Session').find(oldId)).to.equal(undefined);
        expect(await adapter('Session').findByUid(uid), 'findByUid').to.deep.equal(session);
        expect(await adapter('DeviceCode').findByUserCode(userCode), 'findByUserCode').to.deep.equal(code);
        const r = backing.redis;
        if (r) {
          expect(await r.client.get(r.uid('Session', uid)), 'the uid pointer').to.equal(newId);
          expect(await r.client.get(r.userCode('DeviceCode', userCode)), 'the user code pointer').to.equal(newId);
        }

        await adapter('Session').destroy(newId);
        await adapter('DeviceCode').destroy(newId);
        expect(await adapter('Session').findByUid(uid)).to.equal(undefined);
        expect(await adapter('DeviceCode').findByUserCode(userCode)).to.equal(undefined);
        if (r) expect(await r.exists(r.uid('Session', uid), r.userCode('DeviceCode', userCode)), 'pointers left').to.equal(0);
      });

      it('destroy removes the record and nothing else; destroying an unknown id is fine', async () => {
        const [id, other] = [rid(), rid()];
        const at = adapter('AccessToken');
        const otherPayload = tokenPayload();
        await at.upsert(id, tokenPayload(), 60);
        await at.upsert(other, otherPayload, 60);
        await at.destroy(id);
        expect(await at.find(id)).to.equal(undefined);
        expect(await at.find(other)).to.deep.equal(otherPayload);
        if (backing.redis) expect(await backing.redis.exists(backing.redis.record('AccessToken', id))).to.equal(0);
        await at.destroy(id);
        await at.destroy(rid());
        expect(await at.find(other)).to.deep.equal(otherPayload);
      });

      it('revokeByGrantId removes every record of the grant, across models, with their indexes', async () => {
        const [grantId, otherGrant] = [rid(), rid()];
        const ids = { at: rid(), rt: rid(), ac: rid(), dc: rid() };
        const uid = rid();
        const userCode = `UC-${rid()}`;
        // The adapters index uid on any model that has one; an AuthorizationCode carries it here.
        await adapter('AccessToken').upsert(ids.at, tokenPayload({ grantId }), 3600);
        await adapter('RefreshToken').upsert(ids.rt, tokenPayload({ grantId }), 86400);
        await adapter('AuthorizationCode').upsert(ids.ac, tokenPayload({ grantId, uid }), 60);
        await adapter('DeviceCode').upsert(ids.dc, tokenPayload({ grantId, userCode }), 600);
        const survivor = tokenPayload({ grantId: otherGrant });
        const survivorId = rid();
        await adapter('AccessToken').upsert(survivorId, survivor, 3600);

        await adapter('AccessToken').revokeByGrantId(grantId);

        expect(await adapter('AccessToken').find(ids.at)).to.equal(undefined);
        expect(await adapter('RefreshToken').find(ids.rt)).to.equal(undefined);
        expect(await adapter('AuthorizationCode').find(ids.ac)).to.equal(undefined);
        expect(await adapter('DeviceCode').find(ids.dc)).to.equal(undefined);
        expect(await adapter('AuthorizationCode').findByUid(uid)).to.equal(undefined);
        expect(await adapter('DeviceCode').findByUserCode(userCode)).to.equal(undefined);
        expect(await adapter('AccessToken').find(survivorId)).to.deep.equal(survivor);
        if (backing.redis) {
          const r = backing.redis;
          expect(await r.exists(
            r.record('AccessToken', ids.at), r.record('RefreshToken', ids.rt), r.record('AuthorizationCode', ids.ac),
            r.record('DeviceCode', ids.dc), r.uid('AuthorizationCode', uid), r.userCode('DeviceCode', userCode), r.grant(grantId),
          )).to.equal(0);
          expect(await r.exists(r.grant(otherGrant))).to.equal(1);
        }
      });

      it('revokeByGrantId as the provider calls it (every model at once), and of an unknown grant, is fine', async () => {
        const grantId = rid();
        const models = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest'];
        const ids = models.map(() => rid());
        await Promise.all(models.map((model, i) => adapter(model).upsert(ids[i]!, tokenPayload({ grantId }), 600)));
        await Promise.all([...models.map((model) => adapter(model).revokeByGrantId(grantId)), adapter('Grant').destroy(grantId)]);
        for (const [i, model] of models.entries()) expect(await adapter(model).find(ids[i]!), model).to.equal(undefined);
        await adapter('AccessToken').revokeByGrantId(rid());
        await adapter('AccessToken').revokeByGrantId(grantId);
        if (backing.redis) expect(await backing.redis.exists(backing.redis.grant(grantId))).to.equal(0);
      });
    });

    describe('records found by account and by client', () => {
      let backing: OidcBacking;
      const adapter = (model: string): Adapter => backing.storage.factory(model);
      beforeEach(() => { backing = makeStorage(); });
      afterEach(() => backing.close());

      const byId = (records: StoredRecord[]) => [...records].sort((a, b) => a.id.localeCompare(b.id));
      const session = (accountId?: string, grants: Record<string, string> = {}): AdapterPayload => ({
        uid: rid(), jti: rid(), kind: 'Session', ...(accountId ? { accountId, loginTs: epochSeconds() } : {}),
        authorizations: Object.fromEntries(Object.entries(grants).map(([clientId, grantId]) => [clientId, { grantId, sid: rid() }])),
      });
      const grant = (accountId: string, clientId: string): AdapterPayload => ({
        jti: rid(), kind: 'Grant', accountId, clientId, openid: { scope: 'openid' }, iat: epochSeconds(), exp: epochSeconds() + 3600,
      });

      it("ofAccount gives the account's live Sessions and Grants as stored: not its tokens, nor anyone else's records", async () => {
        const [alice, bob] = [`acc-${rid()}`, `acc-${rid()}`];
        const aliceGrant = grant(alice, 'app');
        const aliceSession = session(alice, { app: aliceGrant.jti! });
        const bobSession = session(bob);
        await adapter('Grant').upsert(aliceGrant.jti!, aliceGrant, 3600);
        await adapter('Session').upsert(aliceSession.jti!, aliceSession, 3600);
        await adapter('Session').upsert(bobSession.jti!, bobSession, 3600);
        await adapter('Session').upsert(rid(), session(), 600);
        await adapter('AccessToken').upsert(rid(), tokenPayload({ accountId: alice, clientId: 'app', grantId: aliceGrant.jti! }), 3600);

        expect(byId(await backing.storage.ofAccount(alice))).to.deep.equal(byId([
          { model: 'Grant', id: aliceGrant.jti!, payload: aliceGrant },
          { model: 'Session', id: aliceSession.jti!, payload: aliceSession },
        ]));
        expect(await backing.storage.ofAccount(bob)).to.deep.equal([{ model: 'Session', id: bobSession.jti!, payload: bobSession }]);
        expect(await backing.storage.ofAccount(`acc-${rid()}`)).to.deep.equal([]);
      });

      it("grantsOfClient gives the client's live Grants, whoever the user: not its tokens, nor other clients' grants", async () => {
        const client = `client-${rid()}`;
        const grants = [grant(`acc-${rid()}`, client), grant(`acc-${rid()}`, client)];
        const other = grant(grants[0]!.accountId!, `client-${rid()}`);
        for (const g of [...grants, other]) await adapter('Grant').upsert(g.jti!, g, 3600);
        await adapter('AccessToken').upsert(rid(), tokenPayload({ clientId: client, grantId: grants[0]!.jti! }), 3600);

        expect(byId(await backing.storage.grantsOfClient(client))).to.deep.equal(byId(grants.map((g) => ({ model: 'Grant', id: g.jti!, payload: g }))));
        expect(await backing.storage.grantsOfClient(other.clientId!)).to.deep.equal([{ model: 'Grant', id: other.jti!, payload: other }]);
        expect(await backing.storage.grantsOfClient(`client-${rid()}`)).to.deep.equal([]);
      });

      it('newestOfGrant gives, of each model asked, the live record of the grant that expires last, and nothing of other grants', async () => {
        const grantId = rid();
        const other = rid();
        const token = (extra: Partial<AdapterPayload> = {}) => tokenPayload({ grantId, ...extra });
        const [older, newer, refreshed] = [token(), token(), token()];
        await adapter('AccessToken').upsert(older.jti!, older, 3600);
        await adapter('AccessToken').upsert(newer.jti!, newer, 3601);
        await adapter('RefreshToken').upsert(refreshed.jti!, refreshed, 7200);
        await adapter('AuthorizationCode').upsert(rid(), token(), 60);
        const elsewhere = tokenPayload({ grantId: other });
        await adapter('AccessToken').upsert(elsewhere.jti!, elsewhere, 9999);

        const newest = async (id: string, models: string[]) =>
          [...await backing.storage.newestOfGrant(id, models)].sort((a, b) => a.model.localeCompare(b.model));
        expect(await newest(grantId, ['AccessToken', 'RefreshToken'])).to.deep.equal([
          { model: 'AccessToken', id: newer.jti!, payload: newer },
          { model: 'RefreshToken', id: refreshed.jti!, payload: refreshed },
        ]);
        expect(await newest(grantId, ['DeviceCode'])).to.deep.equal([]);
        expect(await newest(other, ['AccessToken', 'RefreshToken'])).to.deep.equal([{ model: 'AccessToken', id: elsewhere.jti!, payload: elsewhere }]);
        expect(await newest(rid(), ['AccessToken'])).to.deep.equal([]);

        await adapter('AccessToken').destroy(newer.jti!);
        expect(await newest(grantId, ['AccessToken'])).to.deep.equal([{ model: 'AccessToken', id: older.jti!, payload: older }]);
        await adapter('AccessToken').revokeByGrantId(grantId);
        expect(await newest(grantId, ['AccessToken', 'RefreshToken'])).to.deep.equal([]);
      });

      it('a destroyed session or grant is found no more, and its indexes go with the last of their records', async () => {
        const alice = `acc-${rid()}`;
        const aliceGrant = grant(alice, `client-${rid()}`);
        const aliceSession = session(alice);
        await adapter('Grant').upsert(aliceGrant.jti!, aliceGrant, 3600);
        await adapter('Session').upsert(aliceSession.jti!, aliceSession, 3600);
        await adapter('Session').destroy(aliceSession.jti!);
        expect(await backing.storage.ofAccount(alice)).to.have.length(1);
        await adapter('Grant').destroy(aliceGrant.jti!);
        expect(await backing.storage.ofAccount(alice)).to.deep.equal([]);
        expect(await backing.storage.grantsOfClient(aliceGrant.clientId!)).to.deep.equal([]);
        if (backing.redis) {
          const r = backing.redis;
          expect(await r.exists(r.accountRecords(alice), r.clientGrants(aliceGrant.clientId!))).to.equal(0);
        }
      });

      it('a session saved again for another account is found under that account only', async () => {
        const [alice, bob] = [`acc-${rid()}`, `acc-${rid()}`];
        const id = rid();
        await adapter('Session').upsert(id, session(alice), 3600);
        const bobs = session(bob);
        await adapter('Session').upsert(id, bobs, 3600);
        expect(await backing.storage.ofAccount(alice)).to.deep.equal([]);
        expect(await backing.storage.ofAccount(bob)).to.deep.equal([{ model: 'Session', id, payload: bobs }]);
      });

      it('ids gives the ids of the live records of one model, and of no other model', async () => {
        const clients = [`c-${rid()}`, `c-${rid()}`].sort();
        for (const id of clients) await adapter('Client').upsert(id, clientMetadata(id), 3600);
        const grants = [grant(`acc-${rid()}`, clients[0]!)];
        await adapter('Grant').upsert(grants[0]!.jti!, grants[0]!, 3600);
        await adapter('ClientCredentials').upsert(`c-${rid()}`, tokenPayload(), 3600);
        await adapter('Session').upsert(rid(), session(`acc-${rid()}`), 3600);

        expect((await backing.storage.ids('Client')).sort()).to.deep.equal(clients);
        expect(await backing.storage.ids('Grant')).to.deep.equal([grants[0]!.jti]);
        await adapter('Client').destroy(clients[0]!);
        expect(await backing.storage.ids('Client')).to.deep.equal([clients[1]]);
        expect(await backing.storage.ids('RegistrationAccessToken')).to.deep.equal([]);
      });
    });

    describe('clients that go unused expire (withClientIdleExpiry)', () => {
      const TTL = 2;
      let backing: OidcBacking;
      let expiring: AdapterFactory;
      /** When the clients below were registered. */
      let stored = 0;
      const used = { client: `c-${rid()}`, token: rid() };
      const unused = { client: `c-${rid()}`, token: rid() };

      // The provider's registration: the client without a lifetime, then its token, which names it.
      const register = async (factory: AdapterFactory, ids: { client: string; token: string }) => {
        await factory('Client').upsert(ids.client, clientMetadata(ids.client));
        await factory('RegistrationAccessToken').upsert(ids.token, { jti: ids.token, kind: 'RegistrationAccessToken', clientId: ids.client, iat: epochSeconds() });
      };

      // One registration and one wait for the tests that need time to pass.
      before(async () => {
        backing = makeStorage();
        expiring = withClientIdleExpiry(backing.storage.factory, TTL);
        stored = Date.now();
        await Promise.all([register(expiring, used), register(expiring, unused)]);
      });
      after(() => backing?.close());

      it('a client and its registration access token are stored for the idle lifetime; find gives the metadata as stored', async () => {
        expect(await expiring('Client').find(used.client)).to.deep.equal(clientMetadata(used.client));
        expect(await expiring('RegistrationAccessToken').find(used.token)).to.include({ clientId: used.client });
        if (backing.redis) {
          const r = backing.redis;
          const kept = TTL * 1000 + EXPIRY_SLACK_MS;
          const client = await r.pttl(r.record('Client', unused.client));
          const token = await r.pttl(r.record('RegistrationAccessToken', unused.token));
          expect(client).to.be.within(kept - 1000, kept);
          expect(token).to.be.within(kept - 1000, kept);
          expect(token, 'the token expires no later than its client').to.be.at.most(client);
        }
      });

      it('a use past the extension interval extends the client and its token; an unused one is gone with its token', async () => {
        await sleepUntil(stored + 1100);
        expect(await expiring('Client').find(used.client)).to.deep.equal(clientMetadata(used.client));
        await sleepUntil(stored + retentionMs(TTL)! + 200);
        expect(await expiring('Client').find(used.client)).to.deep.equal(clientMetadata(used.client));
        expect(await expiring('RegistrationAccessToken').find(used.token)).to.include({ clientId: used.client });
        expect(await expiring('Client').find(unused.client)).to.equal(undefined);
        expect(await expiring('RegistrationAccessToken').find(unused.token)).to.equal(undefined);
        if (backing.redis) {
          expect(await backing.redis.exists(backing.redis.record('Client', unused.client),
            backing.redis.record('RegistrationAccessToken', unused.token))).to.equal(0);
        }
      });

      it('uses within the extension interval write nothing; other models and unknown clients are untouched', async () => {
        const counting = countingWrites(backing.storage.factory);
        const factory = withClientIdleExpiry(counting.factory, 30 * 24 * 60 * 60);
        const ids = { client: `c-${rid()}`, token: rid() };
        await register(factory, ids);
        counting.writes.length = 0;
        for (let i = 0; i < 3; i++) expect(await factory('Client').find(ids.client)).to.deep.equal(clientMetadata(ids.client));
        expect(await factory('Client').find(`c-${rid()}`)).to.equal(undefined);
        expect(counting.writes).to.deep.equal([]);
        const token = rid();
        await factory('AccessToken').upsert(token, tokenPayload(), 60);
        if (backing.redis) expect(await backing.redis.pttl(backing.redis.record('AccessToken', token))).to.be.at.most(60_000 + EXPIRY_SLACK_MS);
      });
    });

    describe('expiry', () => {
      let backing: OidcBacking;
      const adapter = (model: string): Adapter => backing.storage.factory(model);
      /** When the records with expiresIn=1 were stored. */
      let stored = 0;
      const ids = { at: rid(), session: rid(), device: rid(), code: rid(), forever: rid(), foreverSession: rid(), long: rid(), renewed: rid() };
      const uids = { short: rid(), forever: rid() };
      const userCode = `UC-${rid()}`;
      const grantId = rid();
      const shortGrant = { id: rid(), client: `client-${rid()}` };

      // One set of records and one wait for every expiry test.
      before(async () => {
        backing = makeStorage();
        const start = Date.now();
        await Promise.all([
          adapter('AccessToken').upsert(ids.at, tokenPayload({ grantId }), 1),
          adapter('Session').upsert(ids.session, { uid: uids.short, accountId: 'a' }, 1),
          adapter('DeviceCode').upsert(ids.device, tokenPayload({ userCode }), 1),
          adapter('AuthorizationCode').upsert(ids.code, tokenPayload(), 1),
          adapter('AccessToken').upsert(ids.forever, tokenPayload()),
          adapter('Session').upsert(ids.foreverSession, { uid: uids.forever, accountId: 'b' }),
          adapter('RefreshToken').upsert(ids.long, tokenPayload(), 3600),
          adapter('AccessToken').upsert(ids.renewed, tokenPayload(), 1).then(() => adapter('AccessToken').upsert(ids.renewed, tokenPayload())),
          adapter('Grant').upsert(shortGrant.id, { jti: shortGrant.id, kind: 'Grant', accountId: 'a', clientId: shortGrant.client }, 1),
        ]);
        stored = start;
      });
      after(() => backing?.close());

      it('records are found right away (Redis: kept for expiresIn*1000 + the slack, or for good)', async () => {
        expect(await adapter('AccessToken').find(ids.at)).to.be.an('object');
        expect(await adapter('Session').find(ids.session)).to.be.an('object');
        expect(await adapter('Session').findByUid(uids.short)).to.be.an('object');
        expect(await adapter('DeviceCode').findByUserCode(userCode)).to.be.an('object');
        expect(await adapter('AuthorizationCode').find(ids.code)).to.be.an('object');
        if (backing.redis) {
          const r = backing.redis;
          const oneSecond = 1000 + EXPIRY_SLACK_MS;
          for (const key of [r.record('AccessToken', ids.at), r.record('Session', ids.session), r.uid('Session', uids.short),
            r.userCode('DeviceCode', userCode), r.record('AuthorizationCode', ids.code)]) {
            expect(await r.pttl(key), key).to.be.within(oneSecond - 500, oneSecond);
          }
          expect(await r.pttl(r.record('RefreshToken', ids.long))).to.be.within(3_600_000 + EXPIRY_SLACK_MS - 1000, 3_600_000 + EXPIRY_SLACK_MS);
          expect(await r.pttl(r.record('AccessToken', ids.forever))).to.equal(-1);
          expect(await r.pttl(r.record('Session', ids.foreverSession))).to.equal(-1);
          expect(await r.pttl(r.uid('Session', uids.forever))).to.equal(-1);
          expect(await r.pttl(r.accountRecords('a')), 'an index ends with its last record').to.be.within(oneSecond - 500, oneSecond);
          expect(await r.pttl(r.clientGrants(shortGrant.client))).to.be.within(oneSecond - 500, oneSecond);
          expect(await r.pttl(r.accountRecords('b')), 'an index of a record kept for good').to.equal(-1);
        }
        expect((await backing.storage.ofAccount('a')).map((record) => record.id).sort()).to.deep.equal([ids.session, shortGrant.id].sort());
        expect(await backing.storage.grantsOfClient(shortGrant.client)).to.have.length(1);
        expect((await backing.storage.newestOfGrant(grantId, ['AccessToken'])).map((record) => record.id)).to.deep.equal([ids.at]);
      });

      it('a record is still found after its expiresIn, within the slack', async () => {
        await sleepUntil(stored + 1200);
        expect(await adapter('AccessToken').find(ids.at)).to.be.an('object');
        expect(await adapter('Session').findByUid(uids.short)).to.be.an('object');
      });

      it('records upserted with expiresIn=1 are gone after expiresIn plus the slack, with their indexes', async () => {
        await sleepUntil(stored + GONE_AFTER_MS);
        expect(await adapter('AccessToken').find(ids.at)).to.equal(undefined);
        expect(await adapter('Session').find(ids.session)).to.equal(undefined);
        expect(await adapter('Session').findByUid(uids.short)).to.equal(undefined);
        expect(await adapter('DeviceCode').find(ids.device)).to.equal(undefined);
        expect(await adapter('DeviceCode').findByUserCode(userCode)).to.equal(undefined);
        expect(await adapter('AuthorizationCode').find(ids.code)).to.equal(undefined);
        if (backing.redis) {
          const r = backing.redis;
          expect(await r.exists(r.record('AccessToken', ids.at), r.record('Session', ids.session), r.uid('Session', uids.short),
            r.record('DeviceCode', ids.device), r.userCode('DeviceCode', userCode), r.grant(grantId),
            r.accountRecords('a'), r.clientGrants(shortGrant.client))).to.equal(0);
        }
        expect(await backing.storage.ofAccount('a')).to.deep.equal([]);
        expect(await backing.storage.grantsOfClient(shortGrant.client)).to.deep.equal([]);
        expect(await backing.storage.newestOfGrant(grantId, ['AccessToken'])).to.deep.equal([]);
        expect(await backing.storage.ids('Grant')).to.deep.equal([]);
      });

      it('records without expiresIn (or with a long one) are still there, one saved again without it too', async () => {
        await sleepUntil(stored + GONE_AFTER_MS);
        expect(await adapter('AccessToken').find(ids.forever)).to.be.an('object');
        expect(await adapter('AccessToken').find(ids.renewed)).to.be.an('object');
        expect(await adapter('Session').findByUid(uids.forever)).to.include({ accountId: 'b' });
        expect(await backing.storage.ofAccount('b')).to.deep.equal([{ model: 'Session', id: ids.foreverSession, payload: { uid: uids.forever, accountId: 'b' } }]);
        expect(await adapter('RefreshToken').find(ids.long)).to.be.an('object');
      });

      it('consume of an expired id throws invalid_grant and leaves no record behind', async () => {
        await sleepUntil(stored + GONE_AFTER_MS);
        expectInvalidGrant(await rejection(adapter('AuthorizationCode').consume(ids.code)));
        expect(await adapter('AuthorizationCode').find(ids.code)).to.equal(undefined);
        if (backing.redis) expect(await backing.redis.exists(backing.redis.record('AuthorizationCode', ids.code))).to.equal(0);
      });
    });
  });
}

interface AccountBacking {
  store: AccountStore;
  redis?: { client: RedisClient; prefix: string };
}

function account(username: string, id = rid()): Account {
  return { id, username, passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${rid()}$${rid()}`, createdAt: Date.now() };
}

/** The account store contract, declared once and run against each backing. */
function accountContract(name: string, makeStore: () => AccountBacking) {
  describe(`account store contract: ${name}`, () => {
    let backing: AccountBacking;
    beforeEach(() => { backing = makeStore(); });
    afterEach(async () => { if (backing.redis) await deleteKeys(backing.redis.client, backing.redis.prefix); });

    it('create, then findByUsername (in any letter case) and findById return the account', async () => {
      const alice = account(`Alice-${rid()}`);
      expect(await backing.store.create(alice)).to.equal(true);
      expect(await backing.store.findByUsername(alice.username)).to.deep.equal(alice);
      expect(await backing.store.findByUsername(alice.username.toUpperCase())).to.deep.equal(alice);
      expect(await backing.store.findByUsername(alice.username.toLowerCase())).to.deep.equal(alice);
      expect(await backing.store.findById(alice.id)).to.deep.equal(alice);
    });

    it('unknown usernames and ids give undefined', async () => {
      await backing.store.create(account('someone'));
      expect(await backing.store.findByUsername('nobody')).to.equal(undefined);
      expect(await backing.store.findById(rid())).to.equal(undefined);
    });

    it('returned accounts are copies', async () => {
      const bob = account('bob');
      await backing.store.create(bob);
      const expected = { ...bob };
      bob.passwordHash = 'changed';
      (await backing.store.findById(bob.id))!.username = 'changed';
      expect(await backing.store.findByUsername('bob')).to.deep.equal(expected);
    });

    it('create of a taken name in another letter case is refused and leaves the first account as it was', async () => {
      const first = account('Carol');
      const second = account('cAROL');
      expect(await backing.store.create(first)).to.equal(true);
      expect(await backing.store.create(second)).to.equal(false);
      expect(await backing.store.findByUsername('carol')).to.deep.equal(first);
      expect(await backing.store.findById(first.id)).to.deep.equal(first);
      expect(await backing.store.findById(second.id)).to.equal(undefined);
    });

    it('of 20 concurrent creates of one username exactly one wins, and only its id resolves', async () => {
      const attempts = Array.from({ length: 20 }, (_, i) => account(i % 2 ? 'dave' : 'DAVE'));
      const results = await Promise.all(attempts.map((a) => backing.store.create(a)));
      expect(results.filter(Boolean)).to.have.length(1);
      const winner = attempts[results.indexOf(true)]!;
      expect(await backing.store.findByUsername('Dave')).to.deep.equal(winner);
      expect(await backing.store.findById(winner.id)).to.deep.equal(winner);
      const losers = attempts.filter((a) => a !== winner);
      for (const loser of losers) expect(await backing.store.findById(loser.id), loser.id).to.equal(undefined);
      if (backing.redis) {
        const { client, prefix } = backing.redis;
        expect(await countExisting(client, losers.map((l) => `${prefix}account-id:{${l.id}}`)), 'id pointers of the losers').to.equal(0);
        expect(await client.exists(`${prefix}account-id:{${winner.id}}`)).to.equal(1);
      }
    });

    it('list gives every account, as stored', async () => {
      const accounts = [account(`Erin-${rid()}`), account(`frank-${rid()}`), account(`Grace-${rid()}`)];
      for (const a of accounts) await backing.store.create(a);
      await backing.store.update(accounts[1]!.id, { disabledAt: 1_700_000_000_000, lastLoginAt: 1_700_000_100_000 });
      const expected = [accounts[0], { ...accounts[1], disabledAt: 1_700_000_000_000, lastLoginAt: 1_700_000_100_000 }, accounts[2]];
      const byName = (list: Account[]) => [...list].sort((a, b) => a.username.localeCompare(b.username));
      expect(byName(await backing.store.list())).to.deep.equal(byName(expected as Account[]));
    });

    it('update changes the given fields only, and disabledAt null enables the account again', async () => {
      const henry = account(`Henry-${rid()}`);
      await backing.store.create(henry);
      expect(await backing.store.update(henry.id, { disabledAt: 1_700_000_000_000 })).to.equal(true);
      expect(await backing.store.findById(henry.id)).to.deep.equal({ ...henry, disabledAt: 1_700_000_000_000 });
      expect(await backing.store.update(henry.id, { passwordHash: 'new-hash', lastLoginAt: 1_700_000_200_000 })).to.equal(true);
      expect(await backing.store.findByUsername(henry.username)).to.deep.equal({
        ...henry, passwordHash: 'new-hash', disabledAt: 1_700_000_000_000, lastLoginAt: 1_700_000_200_000,
      });
      expect(await backing.store.update(henry.id, { disabledAt: null })).to.equal(true);
      expect(await backing.store.findById(henry.id)).to.deep.equal({ ...henry, passwordHash: 'new-hash', lastLoginAt: 1_700_000_200_000 });
      expect(await backing.store.update(henry.id, {})).to.equal(true);
    });

    it('delete removes the account and frees its name; later changes and deletes of it are refused and recreate nothing', async () => {
      const ivy = account(`Ivy-${rid()}`);
      const other = account(`Jack-${rid()}`);
      await backing.store.create(ivy);
      await backing.store.create(other);
      expect(await backing.store.delete(ivy.id)).to.equal(true);
      expect(await backing.store.findById(ivy.id)).to.equal(undefined);
      expect(await backing.store.findByUsername(ivy.username)).to.equal(undefined);
      expect(await backing.store.update(ivy.id, { lastLoginAt: Date.now() })).to.equal(false);
      expect(await backing.store.delete(ivy.id)).to.equal(false);
      expect(await backing.store.list()).to.deep.equal([other]);
      if (backing.redis) {
        const { client, prefix } = backing.redis;
        expect(await countExisting(client, [`${prefix}account:{${ivy.username.toLowerCase()}}`, `${prefix}account-id:{${ivy.id}}`])).to.equal(0);
      }
      const again = account(ivy.username.toUpperCase());
      expect(await backing.store.create(again), 'the name is free').to.equal(true);
      expect(await backing.store.findByUsername(ivy.username)).to.deep.equal(again);
    });

    it('update and delete of unknown ids are refused and create nothing', async () => {
      expect(await backing.store.update(rid(), { passwordHash: 'x', disabledAt: 1 })).to.equal(false);
      expect(await backing.store.delete(rid())).to.equal(false);
      expect(await backing.store.list()).to.deep.equal([]);
    });
  });
}

interface NotesBacking {
  store: NotesStore;
  redis?: { client: RedisClient; prefix: string };
}

/** The notes store contract, declared once and run against each backing. */
function notesContract(name: string, makeStore: () => NotesBacking) {
  describe(`notes store contract: ${name}`, () => {
    let backing: NotesBacking;
    beforeEach(() => { backing = makeStore(); });
    afterEach(async () => { if (backing.redis) await deleteKeys(backing.redis.client, backing.redis.prefix); });

    const addAll = async (accountId: string, texts: string[]) => {
      for (const text of texts) expect(await backing.store.add(accountId, text, 10), text).to.not.equal(undefined);
    };
    const texts = async (accountId: string) => (await backing.store.list(accountId)).map((note) => note.text);

    it('lists notes oldest first, with ids of the one issued form, and each user only their own', async () => {
      const [alice, bob] = [rid(), rid()];
      await addAll(alice, ['a1', 'a2', 'a3', 'a4', 'a5']);
      await addAll(bob, ['b1']);
      const notes = await backing.store.list(alice);
      expect(notes.map((n) => n.text)).to.deep.equal(['a1', 'a2', 'a3', 'a4', 'a5']);
      for (const note of notes) expect(note.id).to.match(NOTE_ID);
      expect(await texts(bob)).to.deep.equal(['b1']);
      expect(await backing.store.delete(bob, notes[0]!.id), "another user's note").to.equal(false);
    });

    it('delete of an id it issued removes that note once; of any other id it is false and changes nothing', async () => {
      const user = rid();
      await addAll(user, ['one', 'two', 'three']);
      const [first] = await backing.store.list(user);
      for (const id of ['#seq', 'seq', '', '*', 'no-such-note', first!.id.toUpperCase(), ` ${first!.id}`, '__proto__']) {
        expect(await backing.store.delete(user, id), JSON.stringify(id)).to.equal(false);
      }
      expect(await texts(user)).to.deep.equal(['one', 'two', 'three']);
      // Later notes still come after the earlier ones (the store's own bookkeeping is intact).
      await addAll(user, ['four', 'five']);
      expect(await texts(user)).to.deep.equal(['one', 'two', 'three', 'four', 'five']);
      expect(await backing.store.delete(user, first!.id)).to.equal(true);
      expect(await backing.store.delete(user, first!.id)).to.equal(false);
      expect(await texts(user)).to.deep.equal(['two', 'three', 'four', 'five']);
    });

    it('the limit counts notes, and a delete makes room', async () => {
      const user = rid();
      for (let i = 0; i < 3; i++) expect(await backing.store.add(user, `n${i}`, 3)).to.not.equal(undefined);
      expect(await backing.store.add(user, 'over', 3)).to.equal(undefined);
      await backing.store.delete(user, (await backing.store.list(user))[0]!.id);
      expect(await backing.store.add(user, 'room', 3)).to.not.equal(undefined);
      expect(await texts(user)).to.deep.equal(['n1', 'n2', 'room']);
    });

    it("deleteAll removes every note of the user, and nobody else's; the user may start again", async () => {
      const [alice, bob] = [rid(), rid()];
      await addAll(alice, ['a1', 'a2']);
      await addAll(bob, ['b1']);
      await backing.store.deleteAll(alice);
      expect(await texts(alice)).to.deep.equal([]);
      expect(await texts(bob)).to.deep.equal(['b1']);
      if (backing.redis) {
        const { client, prefix } = backing.redis;
        expect(await client.exists(`${prefix}notes:{${alice}}`, `${prefix}notes-seq:{${alice}}`)).to.equal(0);
      }
      await backing.store.deleteAll(alice);
      await addAll(alice, ['again']);
      expect(await texts(alice)).to.deep.equal(['again']);
    });
  });
}

interface ConsentBacking {
  store: ConsentStore;
  redis?: { client: RedisClient; prefix: string };
}

const HOUR_MS = 60 * 60 * 1000;

/** A consent as the consent page hands it to the store, ending `lifetimeMs` from now. */
const consentFor = (clientId: string, lifetimeMs = HOUR_MS, client: Consent['client'] = { name: `App ${clientId}` }) =>
  ({ clientId, grantId: rid(), client, expiresAt: Date.now() + lifetimeMs });

/** The consent store contract, declared once and run against each backing. */
function consentContract(name: string, makeStore: () => ConsentBacking) {
  describe(`consent store contract: ${name}`, () => {
    let backing: ConsentBacking;
    beforeEach(() => { backing = makeStore(); });
    afterEach(async () => { if (backing.redis) await deleteKeys(backing.redis.client, backing.redis.prefix); });

    const key = (accountId: string) => `${backing.redis!.prefix}consents:{${accountId}}`;
    const clientIds = async (accountId: string) => (await backing.store.list(accountId)).map((c) => c.clientId).sort();

    it('remember, then find and list return the consent as given, granted now; each user only their own', async () => {
      const [alice, bob] = [rid(), rid()];
      const consent = consentFor('https://apps.example/client.json', HOUR_MS, { name: 'Notes <b>Pro</b>', domain: 'apps.example' });
      const before = Date.now();
      await backing.store.remember(alice, consent);
      const found = await backing.store.find(alice, consent.clientId);
      expect(found).to.deep.include(consent);
      expect(found!.grantedAt).to.be.within(before, Date.now());
      expect(await backing.store.list(alice)).to.deep.equal([found]);
      expect(await backing.store.find(bob, consent.clientId)).to.equal(undefined);
      expect(await backing.store.list(bob)).to.deep.equal([]);
    });

    it('a second consent for the client replaces the first; returned consents are copies', async () => {
      const user = rid();
      await backing.store.remember(user, consentFor('app'));
      const second = consentFor('app', 2 * HOUR_MS, { name: 'Renamed' });
      await backing.store.remember(user, second);
      const found = await backing.store.find(user, 'app');
      expect(found).to.deep.include(second);
      found!.client.name = 'changed';
      expect((await backing.store.list(user))[0]!.client.name).to.equal('Renamed');
    });

    it('forget removes and returns the consent; forgetting an unknown one gives undefined', async () => {
      const user = rid();
      const consent = consentFor('app');
      await backing.store.remember(user, consent);
      await backing.store.remember(user, consentFor('other'));
      expect(await backing.store.forget(user, 'app')).to.deep.include(consent);
      expect(await backing.store.forget(user, 'app')).to.equal(undefined);
      expect(await clientIds(user)).to.deep.equal(['other']);
    });

    it('a consent ends at its expiresAt: found nowhere after it, while the others go on', async () => {
      const user = rid();
      const stored = Date.now();
      await backing.store.remember(user, consentFor('short', 500));
      await backing.store.remember(user, consentFor('long'));
      expect(await clientIds(user)).to.deep.equal(['long', 'short']);
      await sleepUntil(stored + 600);
      expect(await backing.store.find(user, 'short')).to.equal(undefined);
      expect(await clientIds(user)).to.deep.equal(['long']);
      expect(await backing.store.forget(user, 'short')).to.equal(undefined);
    });

    it('storage lets go of ended consents: dropped at the next remember, and all of them once the last has ended', async () => {
      const user = rid();
      const stored = Date.now();
      await backing.store.remember(user, consentFor('first', 300));
      await backing.store.remember(user, consentFor('second', 600));
      if (backing.redis) {
        expect(await backing.redis.client.pttl(key(user)), 'the hash ends with its last consent').to.be.within(300, 600);
      }
      await sleepUntil(stored + 450);
      await backing.store.remember(user, consentFor('third', 300));
      expect(await clientIds(user)).to.deep.equal(['second', 'third']);
      if (backing.redis) expect(await backing.redis.client.hkeys(key(user))).to.have.members(['second', 'third']);
      await sleepUntil(stored + 1200);
      expect(await backing.store.list(user)).to.deep.equal([]);
      if (backing.redis) expect(await backing.redis.client.exists(key(user))).to.equal(0);
    });

    it("forgetAll removes every consent of the user, and nobody else's", async () => {
      const [alice, bob] = [rid(), rid()];
      await backing.store.remember(alice, consentFor('one'));
      await backing.store.remember(alice, consentFor('two'));
      await backing.store.remember(bob, consentFor('one'));
      await backing.store.forgetAll(alice);
      expect(await clientIds(alice)).to.deep.equal([]);
      expect(await clientIds(bob)).to.deep.equal(['one']);
      if (backing.redis) expect(await backing.redis.client.exists(key(alice))).to.equal(0);
      await backing.store.forgetAll(alice);
    });
  });
}

/** Every contract on a Redis backing, each test under a prefix of its own. */
function redisContracts(name: string, client: () => RedisClient) {
  contract(name, () => {
    const prefix = uniquePrefix();
    const storage = redisOidcStorage(client(), prefix);
    return {
      storage,
      redis: new RedisView(client(), prefix),
      close: async () => {
        storage.close();
        await deleteKeys(client(), prefix);
      },
    };
  });
  accountContract(name, () => {
    const prefix = uniquePrefix();
    return { store: new RedisAccountStore(client(), prefix), redis: { client: client(), prefix } };
  });
  notesContract(name, () => {
    const prefix = uniquePrefix();
    return { store: new RedisNotesStore(client(), prefix), redis: { client: client(), prefix } };
  });
  consentContract(name, () => {
    const prefix = uniquePrefix();
    return { store: new RedisConsentStore(client(), prefix), redis: { client: client(), prefix } };
  });
}

// ---------------------------------------------------------------------------------------------------------

describe('storage adapters', () => {
  describe('memory', () => {
    contract('memory', () => {
      const storage = memoryOidcStorage();
      return { storage, close: async () => storage.close() };
    });
    accountContract('memory', () => ({ store: new MemoryAccountStore() }));
    notesContract('memory', () => ({ store: new MemoryNotesStore() }));
    consentContract('memory', () => ({ store: new MemoryConsentStore() }));
  });

  describe('Redis', () => {
    const redis = requireRedis();
    let client: Redis | undefined;
    /**
     * A grant with two members that expire and one that lives on (and keeps the index), stored early so that
     * the pruning test's wait overlaps the contract's expiry wait.
     */
    const pruning = { prefix: uniquePrefix(), grantId: rid(), stored: 0, longLived: rid() };

    before(async () => {
      if (!redis.url) return;
      client = new Redis(redis.url);
      const adapter = redisOidcStorage(client, pruning.prefix).factory;
      pruning.stored = Date.now();
      await adapter('AccessToken').upsert(rid(), tokenPayload({ grantId: pruning.grantId }), 1);
      await adapter('AuthorizationCode').upsert(rid(), tokenPayload({ grantId: pruning.grantId }), 1);
      await adapter('RefreshToken').upsert(pruning.longLived, tokenPayload({ grantId: pruning.grantId }), 60);
    });
    after(async () => {
      if (!client) return;
      await deleteKeys(client, pruning.prefix);
      await client.quit();
    });

    redisContracts('Redis', () => client!);

    describe('consents written before they carried expiresAt and client (Redis)', () => {
      it('are named by their client id and end 14 days (TTL.Grant) after grantedAt; the next remember drops the ended ones', async () => {
        const prefix = uniquePrefix();
        const user = rid();
        const key = `${prefix}consents:{${user}}`;
        const day = 24 * HOUR_MS;
        const old = (clientId: string, ageMs: number) => JSON.stringify({ clientId, grantId: rid(), grantedAt: Date.now() - ageMs });
        await client!.hset(key, 'recent', old('recent', day), 'ended', old('ended', 15 * day));
        const store = new RedisConsentStore(client!, prefix);
        try {
          const recent = await store.find(user, 'recent');
          expect(recent).to.include({ clientId: 'recent' });
          expect(recent!.client).to.deep.equal({ name: 'recent' });
          expect(recent!.expiresAt).to.equal(recent!.grantedAt + 14 * day);
          expect(await store.find(user, 'ended')).to.equal(undefined);
          expect((await store.list(user)).map((c) => c.clientId)).to.deep.equal(['recent']);
          await store.remember(user, consentFor('new', HOUR_MS));
          expect(await client!.hkeys(key)).to.have.members(['recent', 'new']);
          expect(await client!.pttl(key), 'the hash ends with the old consent that ends last').to.be.within(13 * day - 1000, 13 * day);
        } finally {
          await deleteKeys(client!, prefix);
        }
      });
    });

    describe('notes written before the counter had a key of its own (Redis)', () => {
      it('are listed without the old counter field, and the next note takes the count over and comes last', async () => {
        const prefix = uniquePrefix();
        const user = rid();
        const key = `${prefix}notes:{${user}}`;
        const old = (seq: number, id: string) => JSON.stringify({ seq, id, text: `old${seq}`, createdAt: Date.now() });
        const [id1, id2] = [crypto.randomUUID(), crypto.randomUUID()];
        await client!.hset(key, id2, old(7, id2), id1, old(3, id1), '#seq', '7');
        const store = new RedisNotesStore(client!, prefix);
        try {
          expect((await store.list(user)).map((n) => n.text)).to.deep.equal(['old3', 'old7']);
          expect(await store.delete(user, '#seq')).to.equal(false);
          expect(await store.add(user, 'new', 3)).to.not.equal(undefined);
          expect(await store.add(user, 'over', 3), 'the old counter field is no note').to.equal(undefined);
          expect((await store.list(user)).map((n) => n.text)).to.deep.equal(['old3', 'old7', 'new']);
          expect(await client!.hexists(key, '#seq')).to.equal(0);
        } finally {
          await deleteKeys(client!, prefix);
        }
      });
    });

    describe('grant indexes (Redis)', () => {
      let view: RedisView;
      let adapter: (model: string) => Adapter;
      beforeEach(() => {
        view = new RedisView(client!, uniquePrefix());
        adapter = redisOidcStorage(client!, view.prefix).factory;
      });
      afterEach(() => deleteKeys(client!, view.prefix));

      it('the index is a sorted set that expires with its longest-lived member', async () => {
        const grantId = rid();
        await adapter('RefreshToken').upsert(rid(), tokenPayload({ grantId }), 600);
        await adapter('AccessToken').upsert(rid(), tokenPayload({ grantId }), 60);
        await adapter('AuthorizationCode').upsert(rid(), tokenPayload({ grantId }), 10);
        const key = view.grant(grantId);
        expect(await client!.type(key)).to.equal('zset');
        expect(await client!.zcard(key)).to.equal(3);
        const longest = retentionMs(600)!;
        expect(await view.pttl(key)).to.be.within(longest - 1000, longest);
      });

      it('members whose expiry passed are pruned when a new member is added', async () => {
        // Two members with expiresIn=1 and one with 60 s (which keeps the index alive) were stored at the start.
        const key = new RedisView(client!, pruning.prefix).grant(pruning.grantId);
        await sleepUntil(pruning.stored + GONE_AFTER_MS);
        expect(await client!.zcard(key), 'before the next member is added').to.equal(3);
        const added = rid();
        await redisOidcStorage(client!, pruning.prefix).factory('AccessToken').upsert(added, tokenPayload({ grantId: pruning.grantId }), 60);
        expect((await client!.zrange(key, '0', '-1')).sort()).to.deep.equal([`AccessToken:${added}`, `RefreshToken:${pruning.longLived}`].sort());
        expect(await client!.pttl(key)).to.be.within(retentionMs(60)! - 1000, retentionMs(60)!);
      });

      it('destroy(id) removes its member from the index', async () => {
        const grantId = rid();
        const [gone, kept] = [rid(), rid()];
        await adapter('AccessToken').upsert(gone, tokenPayload({ grantId }), 60);
        await adapter('RefreshToken').upsert(kept, tokenPayload({ grantId }), 60);
        await adapter('AccessToken').destroy(gone);
        expect(await client!.zrange(view.grant(grantId), '0', '-1')).to.deep.equal([`RefreshToken:${kept}`]);
      });
    });

    describe('key vault (Redis)', () => {
      let prefix: string;
      beforeEach(() => { prefix = uniquePrefix(); });
      afterEach(() => deleteKeys(client!, prefix));

      it('two vaults on one prefix return the same value, even when called concurrently with different generators', async () => {
        const a = new RedisKeyVault(client!, prefix);
        const b = new RedisKeyVault(client!, prefix);
        const values = await Promise.all([
          a.loadOrCreate('cookies', () => 'from-a'),
          b.loadOrCreate('cookies', () => 'from-b'),
          a.loadOrCreate('jwks', () => 'jwks-a'),
          b.loadOrCreate('jwks', () => 'jwks-b'),
        ]);
        expect(values[0]).to.be.oneOf(['from-a', 'from-b']);
        expect(values[1]).to.equal(values[0]);
        expect(values[2]).to.be.oneOf(['jwks-a', 'jwks-b']);
        expect(values[3]).to.equal(values[2]);
        expect(await new RedisKeyVault(client!, prefix).loadOrCreate('cookies', () => 'later')).to.equal(values[0]);
      });

      it('two vaults agree when both find nothing before either stores a value', async () => {
        // b reads (nothing) before a stores, and stores only after a has returned its value: the worst interleaving.
        let aDone!: () => void;
        const gate = new Promise<void>((resolve) => { aDone = resolve; });
        const delayedSets = new Proxy(client!, {
          get(target, prop) {
            if (prop === 'set') return async (...args: unknown[]) => { await gate; return (target.set as (...a: unknown[]) => unknown)(...args); };
            const value = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        const a = new RedisKeyVault(client!, prefix).loadOrCreate('cookies', () => 'from-a').finally(() => aDone());
        const b = new RedisKeyVault(delayedSets, prefix).loadOrCreate('cookies', () => 'from-b');
        expect(await a).to.equal('from-a');
        expect(await b).to.equal('from-a');
        expect(await client!.get(`${prefix}keys:cookies`)).to.equal('from-a');
      });

      it('the generator is not called when a value exists', async () => {
        await new RedisKeyVault(client!, prefix).loadOrCreate('cookies', () => 'stored');
        let calls = 0;
        const value = await new RedisKeyVault(client!, prefix).loadOrCreate('cookies', () => { calls++; return 'fresh'; });
        expect(value).to.equal('stored');
        expect(calls).to.equal(0);
      });
    });
  });

  describe('Redis Cluster', () => {
    // Each key with its hash tag lands on one of three masters: a script or pipeline over keys of two slots fails.
    const cluster = useTopology(OwnCluster.launch);
    let client: Cluster | undefined;
    before(() => {
      client = new Cluster(cluster.it.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
    });
    after(async () => {
      await client?.quit();
    });

    redisContracts('Redis Cluster', () => client!);
  });

  describe('Redis that cannot be reached', () => {
    let client: Redis;
    const prefix = uniquePrefix();
    before(() => {
      client = new Redis('redis://127.0.0.1:1', {
        lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null,
      });
      client.on('error', () => { /* expected: nothing listens on port 1 */ });
    });
    after(() => client.disconnect());

    it('the oidc adapter and its storage reject every call with StorageUnavailable', async () => {
      const storage = redisOidcStorage(client, prefix);
      const adapter = storage.factory('AccessToken');
      const calls: Record<string, () => Promise<unknown>> = {
        ofAccount: () => storage.ofAccount(rid()),
        grantsOfClient: () => storage.grantsOfClient(rid()),
        newestOfGrant: () => storage.newestOfGrant(rid(), ['AccessToken']),
        ids: () => storage.ids('Client'),
        upsert: () => adapter.upsert(rid(), tokenPayload({ uid: rid(), userCode: 'X' }), 60),
        find: () => adapter.find(rid()),
        findByUid: () => adapter.findByUid(rid()),
        findByUserCode: () => adapter.findByUserCode(rid()),
        consume: () => adapter.consume(rid()),
        destroy: () => adapter.destroy(rid()),
        revokeByGrantId: () => adapter.revokeByGrantId(rid()),
      };
      for (const [name, call] of Object.entries(calls)) {
        const err = await rejection(call());
        expect(err, name).to.be.instanceOf(StorageUnavailable);
        expectStorageUnavailable(err);
      }
    });

    it('the account store rejects every call with StorageUnavailable', async () => {
      const store = new RedisAccountStore(client, prefix);
      expectStorageUnavailable(await rejection(store.create(account('erin'))));
      expectStorageUnavailable(await rejection(store.findByUsername('erin')));
      expectStorageUnavailable(await rejection(store.findById(rid())));
      expectStorageUnavailable(await rejection(store.list()));
      expectStorageUnavailable(await rejection(store.update(rid(), { disabledAt: 1 })));
      expectStorageUnavailable(await rejection(store.delete(rid())));
    });

    it('the key vault rejects with StorageUnavailable', async () => {
      let calls = 0;
      const vault = new RedisKeyVault(client, prefix);
      expectStorageUnavailable(await rejection(vault.loadOrCreate('cookies', () => { calls++; return 'x'; })));
      expect(calls).to.equal(0);
    });
  });
});
