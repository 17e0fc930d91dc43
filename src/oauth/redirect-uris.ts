/**
 * The redirect URIs a self-registered client (DCR or Client ID Metadata Document) may use, following the MCP
 * authorization spec and RFC 8252:
 *  - https, anywhere;
 *  - http on a loopback host only: 127.0.0.1, [::1] (RFC 8252 §7.3) and `localhost` (§8.3 discourages it but does
 *    not forbid it, hosts use it, and browsers resolve it to the loopback interface only);
 *  - a private-use scheme of a native app (RFC 8252 §7.1, `com.example.app:/cb`, `cursor://...`), except the
 *    schemes a browser or the OS would act on itself instead of handing to an app.
 */
export type RedirectKind = 'https' | 'loopback' | 'private-use';

export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Schemes that run code, read local files or stay inside the browser: never a way back to an app. */
const REFUSED_SCHEMES = new Set(['javascript:', 'vbscript:', 'data:', 'blob:', 'file:', 'about:', 'filesystem:', 'view-source:']);

/** RFC 3986 §3.1. */
const SCHEME = /^[a-z][a-z0-9+.-]*:$/;

/** What kind of redirect URI this is, or why it is refused. */
export function classifyRedirectUri(uri: unknown): { kind: RedirectKind } | { refused: string } {
  if (typeof uri !== 'string' || !URL.canParse(uri)) return { refused: 'is not a URI' };
  const url = new URL(uri);
  if (url.hash || uri.includes('#')) return { refused: 'has a fragment' };
  if (url.protocol === 'https:') return { kind: 'https' };
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname) ? { kind: 'loopback' } : { refused: 'uses http off a loopback address' };
  }
  if (REFUSED_SCHEMES.has(url.protocol) || !SCHEME.test(url.protocol)) return { refused: `uses the ${url.protocol} scheme` };
  return { kind: 'private-use' };
}
