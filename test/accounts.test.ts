import { expect } from 'chai';
import { MemoryAccountStore } from '../adapters/memory/accounts.js';
import { AccountService } from '../src/accounts/accounts.js';
import { createPasswordHasher, type PasswordHasher } from '../src/accounts/password.js';

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
    const accounts = new AccountService(store, createPasswordHasher());
    const account = await accounts.register({ username: 'Alice', password: 'correct horse battery' });
    const stored = await store.findById(account!.id);
    const [, algorithm, version, params] = stored!.passwordHash.split('$');
    expect([algorithm, version]).to.deep.equal(['argon2id', 'v=19']);
    expect(params!.split(',').sort()).to.deep.equal(['m=19456', 'p=1', 't=2']);
    expect(JSON.stringify(stored)).to.not.include('correct horse battery');
  });

  it('an unknown user costs one argon2 verification, like a wrong password, and both fail alike', async () => {
    const { hasher, calls } = countingHasher();
    const accounts = new AccountService(new MemoryAccountStore(), hasher);
    await accounts.register({ username: 'bob', password: 'password123' });

    expect(await accounts.authenticate('nobody', 'password123')).to.equal(undefined);
    expect(calls).to.deep.equal({ verify: 0, verifyNothing: 1 });
    expect(await accounts.authenticate('bob', 'wrong-password')).to.equal(undefined);
    expect(calls).to.deep.equal({ verify: 1, verifyNothing: 1 });
    expect((await accounts.authenticate('BOB', 'password123'))?.username).to.equal('bob');
  });

  it('usernames are unique regardless of case, and of concurrent registrations of one name exactly one wins', async () => {
    const accounts = new AccountService(new MemoryAccountStore(), createPasswordHasher());
    const results = await Promise.all(['carol', 'Carol', 'CAROL', 'carol'].map((username) => accounts.register({ username, password: 'password123' })));
    expect(results.filter(Boolean)).to.have.length(1);
  });
});
