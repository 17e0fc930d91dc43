/**
 * Where a redirect URI takes the browser, as a person sees it: for http(s), its host, which a client cannot fake as
 * it can its name; for a native app's private-use scheme, the scheme, which names the app (com.example.app:/cb), with
 * the host if it has one (cursor://cb: "cb" alone would name nothing).
 */
export function redirectHost(uri: string): string {
  if (!URL.canParse(uri)) return uri;
  const url = new URL(uri);
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https' || scheme === 'http') return url.host;
  return url.host ? `${scheme}://${url.host}` : scheme;
}
