import type Provider from 'oidc-provider';
import { ABUSE_LIMITS } from '../../config/abuse-limits.js';
import type { AbuseLimits } from './abuse-limits.js';
import { currentRequest, wrapUserCodeLookup } from '../oauth/provider-internals.js';
import { refuseTooMany } from './too-many-requests.js';

/**
 * Limits guessing of user codes on the device page (RFC 8628 §5.1): each code entered counts per client address,
 * a code that exists is given back, and while an address is over the limit its entries are refused (429
 * `too_many_requests` with Retry-After) before the code is looked up, so the right code does not get through either.
 *
 * The provider's hooks on that page (userCodeInputSource, userCodeConfirmSource) run after the lookup, too late to
 * count a burst of concurrent guesses, and its middleware does not know the route before routing: the count sits
 * where the provider looks the entered code up, for the requests it routed to code_verification. The refusal is
 * then drawn by userCodeInputSource, as the provider hands it every error on that page.
 */
export function limitDeviceCodeGuesses(provider: Provider, limits: AbuseLimits): void {
  wrapUserCodeLookup(provider, (findByUserCode) => async (userCode, options) => {
    const ctx = currentRequest();
    if (ctx?.oidc.route !== 'code_verification') return findByUserCode(userCode, options);
    const wait = await limits.deviceCodeEntry(ctx.ip);
    if (wait) refuseTooMany(ctx, wait, ABUSE_LIMITS.wrongDeviceCodes.counts);
    const code = await findByUserCode(userCode, options);
    if (code) await limits.deviceCodeFound(ctx.ip);
    return code;
  });
}
