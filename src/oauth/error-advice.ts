/** What is known of the app behind an error page. */
export type ClientStanding =
  /** Found, or named by a metadata document that could not be used. */
  | 'known'
  /** No app has this id, and apps may register themselves. */
  | 'unknown'
  /** No app has this id, and Dynamic Client Registration is closed. */
  | 'unknown, registration closed'
  /** Its client_id URL names a host the operator did not allow (CIMD_ALLOWED_HOSTS). */
  | 'host not allowed';

/**
 * What a person on the provider's error page can do about it. The errors a page (rather than a redirect to the app)
 * reports are those where the app or its redirect URI cannot be trusted, so the advice is always about the app.
 */
export function errorAdvice(error: string, client: ClientStanding): string {
  if (client === 'unknown') {
    return 'This server does not know the app that sent you here: it may have been registered with another server, or its '
      + 'registration has expired. Go back to the app and connect again, so that it registers itself anew.';
  }
  if (client === 'unknown, registration closed') {
    return 'This server does not know the app that sent you here, and apps cannot register themselves here. Ask the '
      + 'operator of this server to add the app.';
  }
  if (client === 'host not allowed') {
    return 'This server accepts only apps described on sites its operator allows, and this app is not one of them. Ask '
      + 'the operator of this server to allow it.';
  }
  if (error === 'invalid_client' || error === 'invalid_client_metadata') {
    return 'This server could not load the app\'s description. Go back to the app and try again later; if it keeps '
      + 'happening, tell the app\'s developers.';
  }
  if (error === 'invalid_redirect_uri') {
    return 'The app asked to send you back to an address it has not registered, so you were not sent there. Go back to '
      + 'the app and connect again; if it keeps happening, remove the server from the app and add it again.';
  }
  return 'Go back to the app and start again.';
}
