import { errors } from 'oidc-provider';

/**
 * Storage cannot be reached. It is an OAuth error the provider renders itself (503 temporarily_unavailable,
 * redirected to the client by the authorization endpoint), and our own routes answer it the same way.
 */
export class StorageUnavailable extends errors.OIDCProviderError {
  constructor(cause?: unknown) {
    super(503, 'temporarily_unavailable', { cause });
    this.name = 'StorageUnavailable';
    this.expose = true;
    this.error_description = 'the server cannot reach its storage right now; try again in a few seconds';
  }
}

/**
 * The provider checks `consumed` before it calls consume(), with awaits in between: only the adapter can tell
 * which of two concurrent exchanges of one code (or refresh token) came second, and it refuses that one.
 */
export function alreadyConsumed(): Error {
  return new errors.InvalidGrant('grant source already consumed or no longer valid');
}
