/**
 * What a person on the provider's error page can do about it. The errors a page (rather than a redirect to the app)
 * reports are those where the app or its redirect URI cannot be trusted, so the advice is always about the app.
 */
export function errorAdvice(error: string, clientKnown: boolean): string {
  if (error === 'invalid_client' && !clientKnown) {
    return 'This server does not know the app that sent you here: it may have been registered with another server, or its '
      + 'registration has expired. Go back to the app and connect again, so that it registers itself anew.';
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
