import { expect } from 'chai';
import { memoryLimiters } from '../adapters/limiter.js';
import { MemoryAccountStore } from '../adapters/memory/accounts.js';
import { AbuseLimits } from '../src/limits/abuse-limits.js';
import { AccountService } from '../src/accounts/accounts.js';
import { availableParallelism } from 'node:os';
import { createPasswordHasher, HASHING_SLOTS, Slots, type PasswordHasher } from '../src/accounts/password.js';

const IP = '127.0.0.1';
const NO_LIMITS = new AbuseLimits({ loginFailuresPerUsername: 0, loginFailuresPerIp: 0, registrationsPerIp: 0, clientRegistrationsPerIp: 0, tokenErrorsPerClientAndIp: 0, deviceCodeFailuresPerIp: 0, anonymousRecordsPerIp: 0 }, memoryLimiters);

/** The real argon2 hasher, counting which verification each call made. */
function countingHasher() {
  const real = createPasswordHasher();
  const calls = { verify: 0, verifyNothing: 0 };
  const hasher: PasswordHasher = {
    hash: (p) => real.hash(p),
    verify: (h, p) => { calls.verify++; return real.verify(h, p); },
    verifyNothing: (p) => { calls.verifyNothing++; return real.verifyNothing(p); },
  };
  return { hasher, calls };
}

describe('accounts', () => {
  it('stores only an argon2id hash with the OWASP parameters (19 MiB, t=2, p=1)', async () => {
    const store = new MemoryAccountStore();
    const accounts = new AccountService(store, createPasswordHasher(), NO_LIMITS);
    const account = await accounts.register({ username: 'Alice', password: 'correct horse battery' }, IP);
    const stored = await store.findById(account!.id);
    const [, algorithm, version, params] = stored!.passwordHash.split('$');
    expect([algorithm, version]).to.deep.equal(['argon2id', 'v=19']);
    expect(params!.split(',').sort()).to.deep.equal(['m=19456', 'p=1', 't=2']);
    expect(JSON.stringify(stored)).to.not.include('correct horse battery');
  });

  it('an unknown user costs one argon2 verification, like a wrong password, and both fail alike', async () => {
    const { hasher, calls } = countingHasher();
    const accounts = new AccountService(new MemoryAccountStore(), hasher, NO_LIMITS);
    await accounts.register({ username: 'bob', password: 'password123' }, IP);

    expect(await accounts.authenticate('nobody', 'password123', IP)).to.equal(undefined);
    expect(calls).to.deep.equal({ verify: 0, verifyNothing: 1 });
    expect(await accounts.authenticate('bob', 'wrong-password', IP)).to.equal(undefined);
    expect(calls).to.deep.equal({ verify: 1, verifyNothing: 1 });
    expect((await accounts.authenticate('BOB', 'password123', IP))?.username).to.equal('bob');
  });

  it('usernames are unique regardless of case, and of concurrent registrations of one name exactly one wins', async () => {
    const accounts = new AccountService(new MemoryAccountStore(), createPasswordHasher(), NO_LIMITS);
    const results = await Promise.all(['carol', 'Carol', 'CAROL', 'carol'].map((username) => accounts.register({ username, password: 'password123' }, IP)));
    expect(results.filter(Boolean)).to.have.length(1);
  });
});

describe('password hashing slots', () => {
  it('never runs more work at once than it has slots, and runs everything in the end', async () => {
    const slots = new Slots(2);
    let active = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const work = () => slots.run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => releases.push(resolve));
      active--;
    });
    const all = Promise.all(Array.from({ length: 5 }, work));
    while (releases.length < 5) {
      await new Promise((r) => setImmediate(r));
      expect(active).to.be.at.most(2);
      releases.splice(0).forEach((release) => release());
      await new Promise((r) => setImmediate(r));
      if (releases.length === 0 && active === 0) break;
    }
    await Promise.all([all, (async () => { while (releases.length) releases.splice(0).forEach((r) => r()); })()]);
    expect(peak).to.equal(2);
  });

  it('the hasher leaves a core to the event loop', () => {
    expect(HASHING_SLOTS).to.equal(Math.max(1, availableParallelism() - 1));
  });
});
