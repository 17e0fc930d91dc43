import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Caller } from '../tools/tool.js';

/*
 * The caller travels to tool handlers in the SDK's AuthInfo (`extra.authInfo`), as the SDK's own bearer
 * middleware does it; the account, username and the app's name ride in `extra`. Both directions live here so they agree.
 */

export function toAuthInfo(caller: Caller, token: string, expiresAt: number, resource: string): AuthInfo {
  return {
    token,
    clientId: caller.clientId,
    scopes: [...caller.scopes],
    expiresAt,
    resource: new URL(resource),
    extra: { accountId: caller.accountId, username: caller.username, clientName: caller.clientName },
  };
}

/** Undefined when the request did not come through the bearer check (a bug: tools then refuse to run). */
export function callerOf(auth: AuthInfo | undefined): Caller | undefined {
  const accountId = auth?.extra?.accountId;
  const username = auth?.extra?.username;
  const clientName = auth?.extra?.clientName;
  if (!auth || typeof accountId !== 'string' || typeof username !== 'string' || typeof clientName !== 'string') return undefined;
  return { accountId, username, clientId: auth.clientId, clientName, scopes: auth.scopes };
}
