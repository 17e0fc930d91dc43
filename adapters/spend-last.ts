import { AsyncLocalStorage } from 'node:async_hooks';
import type Provider from 'oidc-provider';
import { errors, type Adapter, type AdapterFactory, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import { StorageUnavailable } from './errors.js';
import { ForwardingAdapter } from './forwarding.js';
import { neverSent } from './redis/client.js';

/** The models whose consume spends the code or refresh token a token request presents. */
const SPENDABLE = new Set(['AuthorizationCode', 'DeviceCode', 'RefreshToken']);

/**
 * The provider's routes that answer a browser with a page, which the person reloads (or submits again) when it fails:
 * the return from a sign-in or consent step, the device code pages, the sign-out confirmation.
 */
const PAGE_ROUTES = new Set(['resume', 'device_resume', 'code_verification', 'end_session_confirm']);

/** The records a browser's cookies name: while they are as they were, reloading its page does the step again. */
const BROWSER_RECORDS = new Set(['Session', 'Interaction']);

/**
 * A held write that must land although its request has answered without it is made again, first after this long, then
 * twice as long each time up to the max.
 */
const REMAKE_FIRST_MS = 1_000;
const REMAKE_MAX_MS = 30_000;

/** Answers a page whose request failed on storage (src/oauth/outage-page.ts). */
export type OutagePage = (ctx: KoaContextWithOIDC) => Promise<void>;

interface HeldWrite {
  model: string;
  /** A consume, rather than a removal: made twice, it refuses the second time. */
  consume: boolean;
  run(): Promise<void>;
}

/** One provider request: the writes it holds back, and whether storage failed it. */
class HeldRequest {
  readonly held: HeldWrite[] = [];
  failedOnStorage = false;
  /** What the response would set before the provider served it: a failed page sets nothing more. */
  private readonly cookiesBefore: string[];

  constructor(readonly ctx: KoaContextWithOIDC) {
    this.cookiesBefore = [ctx.response.headers['set-cookie'] ?? []].flat();
  }

  /** A page a browser shows (see PAGE_ROUTES). */
  get page(): boolean {
    return PAGE_ROUTES.has(this.ctx.oidc?.route ?? '');
  }

  /** Whether this request's removals wait for its answer: a revocation's, and a page's. */
  get holdsRemovals(): boolean {
    return this.ctx.oidc?.route === 'revocation' || this.page;
  }

  noteFailure(err: unknown): void {
    if (err instanceof StorageUnavailable) this.failedOnStorage = true;
  }

  /**
   * The grant first (every use of a token checks it, so its tokens are dead from then on), then the tokens of the
   * grant, those of the presented credential's kind last, then the presented credential itself, which the provider
   * wrote to first: until that last write lands, a retry finds the credential and does everything again.
   */
  inOrder(): HeldWrite[] {
    const [presented] = this.held;
    const rank = (write: HeldWrite) => {
      if (write === presented) return 3;
      if (write.model === presented!.model) return 2;
      return write.model === 'Grant' ? 0 : 1;
    };
    return [...this.held].sort((a, b) => rank(a) - rank(b));
  }

  /**
   * Makes the held writes once the provider has answered, unless storage failed the request: the credential then
   * stays as it was, and the retry the 503 asks for succeeds. A request that failed otherwise (the poll that learns
   * the user refused a device code, say) still spends it, as the provider would have.
   */
  async settle(answeredWithError: boolean): Promise<void> {
    if (this.failedOnStorage) return;
    for (const write of this.inOrder()) {
      try {
        await write.run();
      } catch (err) {
        // The error answer stands; the credential is then as unspent as the provider's own failure would leave it.
        if (answeredWithError) return;
        // The answer carries tokens already stored: keep it, and see that the consume lands.
        if (write.consume && maybeRan(err)) {
          remakeEventually(write.run);
          continue;
        }
        if (write.consume) await discardIssued(this.ctx);
        answerWith(this.ctx, err);
        return;
      }
    }
  }

  /**
   * A page: its removals (a sign-out's revocations, then its session; the return from a sign-in's interaction, then
   * the session it replaced) are made in the provider's order once it has answered, unless storage failed the request.
   * Failed, or failing at a removal while the browser's records are still as they were, the page becomes the outage
   * page, and the cookies the provider set for the answer are dropped: the browser keeps its session and interaction,
   * and reloading the page does the step again. Once one of the browser's records is gone, the answer stands (its
   * cookies name what replaced it) and the rest are made as soon as storage answers.
   */
  async settlePage(outagePage: OutagePage): Promise<void> {
    if (!this.failedOnStorage) await this.makeRemovals();
    if (!this.failedOnStorage) return;
    if (this.cookiesBefore.length) this.ctx.set('Set-Cookie', this.cookiesBefore);
    else this.ctx.remove('Set-Cookie');
    await outagePage(this.ctx);
  }

  private async makeRemovals(): Promise<void> {
    let browserMoved = false;
    for (const [i, write] of this.held.entries()) {
      try {
        await write.run();
      } catch (err) {
        if (!(err instanceof StorageUnavailable)) throw err;
        if (!browserMoved) {
          this.failedOnStorage = true;
          return;
        }
        for (const rest of this.held.slice(i)) remakeEventually(rest.run);
        return;
      }
      browserMoved ||= BROWSER_RECORDS.has(write.model);
    }
  }
}

/** A storage failure after which the write may have landed all the same (a timeout, a connection cut mid-way). */
const maybeRan = (err: unknown) => err instanceof StorageUnavailable && !neverSent(err.cause);

/** Made again until storage answers: landed twice, a consume is refused and a removal finds nothing: as good. */
function remakeEventually(write: () => Promise<void>, delayMs = REMAKE_FIRST_MS): void {
  setTimeout(() => {
    write().catch((err: unknown) => {
      if (err instanceof StorageUnavailable) remakeEventually(write, Math.min(delayMs * 2, REMAKE_MAX_MS));
    });
  }, delayMs).unref();
}

/** The tokens of a request that could not spend its credential: its answer does not give them, so nobody ever has them. */
async function discardIssued(ctx: KoaContextWithOIDC): Promise<void> {
  const { AccessToken, RefreshToken } = ctx.oidc.entities;
  await Promise.allSettled([AccessToken?.destroy(), RefreshToken?.destroy()]);
}

function answerWith(ctx: KoaContextWithOIDC, err: unknown): void {
  if (!(err instanceof errors.OIDCProviderError)) throw err;
  ctx.status = err.statusCode;
  ctx.body = { error: err.error, error_description: err.error_description };
}

class HoldingAdapter extends ForwardingAdapter {
  constructor(inner: Adapter, private readonly model: string, private readonly requests: AsyncLocalStorage<HeldRequest>) {
    super(inner);
  }

  private hold(request: HeldRequest, consume: boolean, run: () => Promise<void>): Promise<void> {
    request.held.push({ model: this.model, consume, run });
    return Promise.resolve();
  }

  /** On a page, a call that fails on storage fails the request, whatever the provider makes of the error. */
  private watched<T>(call: () => Promise<T>): Promise<T> {
    const request = this.requests.getStore();
    if (!request?.page) return call();
    return call().catch((err: unknown) => {
      request.noteFailure(err);
      throw err;
    });
  }

  /**
   * Once storage failed a page, the browser's records are not written: what the provider saves of them on its way out
   * (the session under the new id it rotated to, a new form secret in it) would change what the reload needs.
   */
  override upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    const request = this.requests.getStore();
    if (request?.page && request.failedOnStorage && BROWSER_RECORDS.has(this.model)) return Promise.resolve();
    return this.watched(() => this.inner.upsert(id, payload, expiresIn));
  }

  override find(id: string) {
    return this.watched(() => this.inner.find(id));
  }

  override findByUid(uid: string) {
    return this.watched(() => this.inner.findByUid(uid));
  }

  override findByUserCode(userCode: string) {
    return this.watched(() => this.inner.findByUserCode(userCode));
  }

  override consume(id: string) {
    const request = SPENDABLE.has(this.model) ? this.requests.getStore() : undefined;
    return request ? this.hold(request, true, () => this.inner.consume(id)) : this.inner.consume(id);
  }

  override destroy(id: string) {
    const request = this.requests.getStore();
    return request?.holdsRemovals ? this.hold(request, false, () => this.inner.destroy(id)) : this.inner.destroy(id);
  }

  override revokeByGrantId(grantId: string) {
    const request = this.requests.getStore();
    return request?.holdsRemovals
      ? this.hold(request, false, () => this.inner.revokeByGrantId(grantId))
      : this.inner.revokeByGrantId(grantId);
  }
}

/**
 * A request that fails because storage went away must be safe to retry with the credential it presented, however
 * long the outage lasted. The provider spends that credential first: the token endpoint consumes the code or refresh
 * token before it stores the new tokens, and the revocation endpoint destroys the token before the rest of its grant.
 * A failure in between left the credential spent and the work undone, so the retry looked like a replay (a code or
 * rotated refresh token presented again: the whole grant revoked) or found nothing to revoke (a 200 while the grant
 * lived on).
 *
 * Within those requests these writes are held back and made once the provider has answered (see settle), which also
 * covers the consume itself failing. Another request spent the credential first: the tokens issued are discarded and
 * the answer is invalid_grant. Storage surely never got the consume: the answer becomes the 503, and the retry
 * succeeds. Storage got it but did not answer: the tokens stand, and the consume is made again until it lands, so
 * that presenting the spent credential later is still caught as reuse.
 *
 * A browser's page must likewise be safe to reload (see settlePage). The return from a sign-in or consent step
 * removes the interaction before anything else, and the sign-in rotates the session: the old one is removed, a new
 * one saved and its cookie set, however the request ends. A failure left the browser signed out and its application
 * with a temporarily_unavailable to start over from; a sign-out that failed half-way had revoked some of the grants
 * and kept the session. Those removals are held back too, and a failed page keeps the browser's cookies.
 */
export class SpendLast {
  private readonly requests = new AsyncLocalStorage<HeldRequest>();

  /** Wraps the provider's adapters; outermost, so that a held write runs everything beneath it (invalidation too). */
  adapters(factory: AdapterFactory): AdapterFactory {
    return (name) => new HoldingAdapter(factory(name), name, this.requests);
  }

  /** Holds each provider request's writes until it has answered, and settles them then; `outagePage` answers failed pages. */
  install(provider: Provider, outagePage: OutagePage): void {
    provider.use(async (ctx, next) => {
      const request = new HeldRequest(ctx as KoaContextWithOIDC);
      let escaped: { err: unknown } | undefined;
      try {
        await this.requests.run(request, next);
      } catch (err) {
        request.noteFailure(err);
        escaped = { err };
      }
      if (request.page) {
        await request.settlePage(outagePage);
        if (escaped && !request.failedOnStorage) throw escaped.err;
        return;
      }
      await request.settle(escaped !== undefined || ctx.status >= 400);
      if (escaped) throw escaped.err;
    });
    // The provider renders its endpoints' errors itself (a page's as a redirect to the application, or a page of its
    // own); these events are where it says what they were.
    const noteFailure = (_ctx: KoaContextWithOIDC, err: unknown) => this.requests.getStore()?.noteFailure(err);
    provider.on('grant.error', noteFailure);
    provider.on('revocation.error', noteFailure);
    provider.on('authorization.error', noteFailure);
    provider.on('code_verification.error', noteFailure);
    provider.on('device_resume.error', noteFailure);
    provider.on('end_session_confirm.error', noteFailure);
  }
}
