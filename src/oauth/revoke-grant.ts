import type { Adapter } from 'oidc-provider';

/** The models of what is issued under a grant: tokens and codes. */
const ISSUED_UNDER_GRANT = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode'] as const;

export type GrantModel = 'Grant' | (typeof ISSUED_UNDER_GRANT)[number];

/**
 * Ends a grant at once, as the library's own revocation helper (lib/helpers/revoke.js) does, which needs a
 * provider request context that our pages and the operator's commands do not have. The grant goes first: the
 * provider checks it on every introspection and refresh, so its tokens are dead from that moment even if removing
 * them were cut short. Then every access token, refresh token and unused code issued under it goes too. Through
 * adapters that publish invalidations (adapters/invalidating.ts), every instance's token cache drops them.
 */
export async function revokeGrantById(adapter: (model: GrantModel) => Adapter, grantId: string): Promise<void> {
  await adapter('Grant').destroy(grantId);
  await Promise.all(ISSUED_UNDER_GRANT.map((model) => adapter(model).revokeByGrantId(grantId)));
}
