import { AsyncLocalStorage } from 'node:async_hooks';
import type Provider from 'oidc-provider';
import { errors, type Adapter, type AdapterFactory, type KoaContextWithOIDC } from 'oidc-provider';
import { StorageUnavailable } from './errors.js';
import { ForwardingAdapter } from './forwarding.js';
import { neverSent } from './redis/client.js';

/** The models whose consume spends the code or refresh token a token request presents. */
const SPENDABLE = new Set(['AuthorizationCode', 'DeviceCode', 'RefreshToken']);

/** A consume whose reply was lost is made again, first after this long, then twice as long each time up to the max. */
const RECONSUME_FIRST_MS = 1_000;
const RECONSUME_MAX_MS = 30_000;

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

  constructor(readonly ctx: KoaContextWithOIDC) {}

  get revoking(): boolean {
    return this.ctx.oidc?.route === 'revocation';
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
          consumeEventually(write.run);
          continue;
        }
        if (write.consume) await discardIssued(this.ctx);
        answerWith(this.ctx, err);
        return;
      }
    }
  }
}

/** A storage failure after which the write may have landed all the same (a timeout, a connection cut mid-way). */
const maybeRan = (err: unknown) => err instanceof StorageUnavailable && !neverSent(err.cause);

/** Made again until storage answers: landed twice, a consume is refused, which is as good. */
function consumeEventually(consume: () => Promise<void>, delayMs = RECONSUME_FIRST_MS): void {
  setTimeout(() => {
    consume().catch((err: unknown) => {
      if (err instanceof StorageUnavailable) consumeEventually(consume, Math.min(delayMs * 2, RECONSUME_MAX_MS));
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

  override consume(id: string) {
    const request = SPENDABLE.has(this.model) ? this.requests.getStore() : undefined;
    return request ? this.hold(request, true, () => this.inner.consume(id)) : this.inner.consume(id);
  }

  override destroy(id: string) {
    const request = this.requests.getStore();
    return request?.revoking ? this.hold(request, false, () => this.inner.destroy(id)) : this.inner.destroy(id);
  }

  override revokeByGrantId(grantId: string) {
    const request = this.requests.getStore();
    return request?.revoking
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
 */
export class SpendLast {
  private readonly requests = new AsyncLocalStorage<HeldRequest>();

  /** Wraps the provider's adapters; outermost, so that a held write runs everything beneath it (invalidation too). */
  adapters(factory: AdapterFactory): AdapterFactory {
    return (name) => new HoldingAdapter(factory(name), name, this.requests);
  }

  /** Holds each provider request's writes until it has answered, and settles them then. */
  install(provider: Provider): void {
    provider.use(async (ctx, next) => {
      const request = new HeldRequest(ctx as KoaContextWithOIDC);
      let escaped: { err: unknown } | undefined;
      try {
        await this.requests.run(request, next);
      } catch (err) {
        request.noteFailure(err);
        escaped = { err };
      }
      await request.settle(escaped !== undefined || ctx.status >= 400);
      if (escaped) throw escaped.err;
    });
    // The provider renders its endpoints' errors itself; these events are where it says what they were.
    const noteFailure = (_ctx: KoaContextWithOIDC, err: unknown) => this.requests.getStore()?.noteFailure(err);
    provider.on('grant.error', noteFailure);
    provider.on('revocation.error', noteFailure);
  }
}
