import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { withholdRedirect } from '../oauth/provider-internals.js';

class TooManyRequests extends errors.OIDCProviderError {
  constructor(description: string) {
    super(429, 'too_many_requests');
    this.expose = true;
    this.error_description = description;
    // At the authorization endpoint: the browser gets the error page rather than a redirect to the client with an
    // error code OAuth does not define for it.
    withholdRedirect(this);
  }
}

/**
 * Refuses the provider's request being served with 429 `too_many_requests` and Retry-After, in the provider's own
 * error format. Browser-based clients may read Retry-After too: the provider's CORS exposes WWW-Authenticate only.
 */
export function refuseTooMany(ctx: KoaContextWithOIDC, seconds: number, what: string): never {
  ctx.set('Retry-After', String(seconds));
  const exposed = ctx.response.get('Access-Control-Expose-Headers');
  if (exposed && !/\bretry-after\b/i.test(exposed)) ctx.set('Access-Control-Expose-Headers', `${exposed}, Retry-After`);
  throw new TooManyRequests(`too many ${what}; try again in ${seconds} seconds`);
}
