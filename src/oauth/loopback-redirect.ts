import type Provider from 'oidc-provider';
import { overrideRedirectUriCheck } from './provider-internals.js';
import { LOOPBACK_HOSTS } from './redirect-uris.js';

/**
 * The URI without the port of its loopback http authority, else undefined. Works on the string as sent, so that
 * apart from the port the match stays exact (no normalising of paths, case or escapes).
 */
function withoutLoopbackPort(uri: string): string | undefined {
  if (!URL.canParse(uri)) return undefined;
  const { protocol, hostname, username, password } = new URL(uri);
  if (protocol !== 'http:' || !LOOPBACK_HOSTS.has(hostname) || username || password) return undefined;
  const match = /^(http:\/\/)([^/?#]*)(.*)$/is.exec(uri);
  if (!match) return undefined;
  const authority = match[2]!.replace(/:\d*$/, '');
  return `${match[1]}${authority}${match[3]}`;
}

/**
 * RFC 8252 §7.3 and OAuth 2.1: the authorization server must accept any port on a loopback redirect URI, since a
 * native app listens on whatever port is free when it signs in. The provider relaxes the port only for clients
 * registered with application_type native; MCP hosts often omit the type (or say web), and Client ID Metadata
 * Documents list the loopback URI once for every run. So every self-registered client gets the relaxation; the
 * operator's static clients keep the provider's own rule. Every redirect_uri check (authorization, PAR, error
 * redirects) goes through the check this replaces (provider-internals.ts).
 */
export function allowAnyLoopbackPort(provider: Provider, staticClientIds: ReadonlySet<string>): void {
  overrideRedirectUriCheck(provider, (client, uri, registered) => {
    if (registered) return true;
    if (staticClientIds.has(client.clientId) || typeof uri !== 'string') return false;
    const requested = withoutLoopbackPort(uri);
    return requested !== undefined && (client.redirectUris ?? []).some((one) => withoutLoopbackPort(one) === requested);
  });
}
