/** What an app is told at the authorization endpoint (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6), in a person's words. */
const WORDS: Readonly<Record<string, string>> = {
  login_required: 'The app asked to sign you in without showing you any page, but you are not signed in here.',
  consent_required: 'The app asked for access without asking you, but you have not allowed it that access.',
  interaction_required: 'The app asked to go on without showing you any page, but this server needs to ask you something first.',
  account_selection_required: 'The app asked to go on without showing you any page, but you need to choose an account first.',
  invalid_scope: 'The app asked for permissions this server does not have.',
  invalid_target: 'The app asked for access to a service this server does not know.',
  unsupported_response_type: 'The app asked for a kind of answer this server does not give.',
  unsupported_response_mode: 'The app asked to be answered in a way this server does not support.',
  unauthorized_client: 'The app is not allowed to sign in this way.',
  access_denied: 'The request was refused.',
  temporarily_unavailable: 'The server cannot complete sign-ins right now. Try again in a few seconds.',
};

/** The error code in a sentence; codes without one of their own are the app's mistakes. */
export const errorInWords = (error: string): string => WORDS[error] ?? 'The app sent a request this server cannot accept.';
