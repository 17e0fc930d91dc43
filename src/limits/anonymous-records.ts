import type Provider from 'oidc-provider';
import type { AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';
import { ABUSE_LIMITS } from '../../config/abuse-limits.js';
import type { AbuseLimits } from './abuse-limits.js';
import { currentRequest, wrapModelAdapter } from '../oauth/provider-internals.js';
import { refuseTooMany } from './too-many-requests.js';

/** The models whose records a caller nobody has signed in as can make the provider store, and which records are such. */
const ANONYMOUS_RECORDS = {
  Interaction: (payload: AdapterPayload) => !(payload.session as { accountId?: string } | undefined)?.accountId,
  Session: (payload: AdapterPayload) => !payload.accountId,
  PushedAuthorizationRequest: () => true,
  DeviceCode: (payload: AdapterPayload) => !payload.accountId,
} as const;

interface Served {
  /** Records this request loaded ("<model> <id>"): the provider saving one of them again stores nothing new. */
  loaded: Set<string>;
  /** Decided at the first new record of nobody signed in that the request stores. */
  admitted?: boolean;
}

/**
 * Records of nobody signed in, counted per client network: 429 `too_many_requests` with Retry-After (OAuth's JSON,
 * or the error page in a browser) once an address has made the provider store too many. Anyone can make it store
 * them without an account (a sign-in page's interaction, a pushed request, a device code, the session of a device
 * or sign-out page), each kept for minutes.
 *
 * Counted where the provider stores them, during a request it serves (whatever the route, and whatever spelling of
 * its path), so every way in is counted. A request is admitted or refused as a whole at the first such record it
 * stores: refused, it stores none (the provider saving its session again on the way out included), and it is not
 * counted; admitted, the few more it stores with it (a session beside its interaction) ride on that count. Saving
 * again a record the request loaded (a session as the browser moves from page to page, a device code once its user
 * code is entered) stores nothing new and is not counted; nor is what our own routes store (a finished sign-in
 * saves its interaction again), which runs outside the provider's requests.
 */
export function limitAnonymousRecords(provider: Provider, limits: AbuseLimits): void {
  const requests = new WeakMap<object, Served>();
  const served = (ctx: object) => {
    let request = requests.get(ctx);
    if (!request) requests.set(ctx, request = { loaded: new Set() });
    return request;
  };

  for (const [model, anonymous] of Object.entries(ANONYMOUS_RECORDS)) {
    const loaded = (payload: AdapterPayload | undefined | void) => {
      const ctx = currentRequest();
      if (ctx && payload?.jti) served(ctx).loaded.add(`${model} ${payload.jti}`);
      return payload;
    };
    wrapModelAdapter(provider, model as keyof typeof ANONYMOUS_RECORDS, ({ upsert, find, findByUid, findByUserCode }) => ({
      find: async (id) => loaded(await find(id)),
      findByUid: async (uid) => loaded(await findByUid(uid)),
      findByUserCode: async (userCode) => loaded(await findByUserCode(userCode)),
      upsert: async (id, payload, expiresIn) => {
        const ctx = currentRequest();
        if (ctx && anonymous(payload) && !served(ctx).loaded.has(`${model} ${id}`)) {
          const request = served(ctx);
          if (request.admitted === undefined) {
            const wait = await limits.anonymousRecord(ctx.ip);
            request.admitted = !wait;
            if (wait) {
              if (model === 'Session') dropCookie(ctx, provider.cookieName('session'));
              refuseTooMany(ctx, wait, ABUSE_LIMITS.anonymousRecords.counts);
            }
          }
          if (!request.admitted) return;
        }
        return upsert(id, payload, expiresIn);
      },
    }));
  }
}

/** The provider sets a session's cookie before it saves the session: once the save is refused, it would name nothing. */
function dropCookie(ctx: KoaContextWithOIDC, name: string): void {
  const kept = [ctx.response.headers['set-cookie'] ?? []].flat()
    .filter((cookie) => !cookie.startsWith(`${name}=`) && !cookie.startsWith(`${name}.sig=`));
  if (kept.length) ctx.set('Set-Cookie', kept);
  else ctx.remove('Set-Cookie');
}
