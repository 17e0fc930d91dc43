import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Account } from '../../adapters/stores.js';
import type { AccountService } from '../accounts/accounts.js';

export interface SignedInUser {
  account: Account;
  /** The uid of the browser's session: what the forms of a signed-in page are bound to. */
  sessionUid: string;
}

export type FindSignedInUser = (ctx: Context) => Promise<SignedInUser | undefined>;

/**
 * Who is signed in in this browser, if anyone: whoever the provider's session cookie says (the one /oauth/authorize
 * uses). Looking stores nothing: a browser without a session is not given one.
 */
export function signedInUser(provider: Provider, accounts: AccountService): FindSignedInUser {
  return async (ctx) => {
    const session = await provider.Session.get(ctx);
    const account = session.accountId ? await accounts.findById(session.accountId) : undefined;
    return account && { account, sessionUid: session.uid };
  };
}
