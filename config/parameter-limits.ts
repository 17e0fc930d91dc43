/**
 * The longest value, in characters, that a request may give each parameter the provider keeps: an authorization
 * request's are stored (in the interaction, the pushed request, the device code) before anyone has signed in, and a
 * sign-out's state in the browser's session. Every value a real client sends fits with room to spare; a client
 * that sends more gets invalid_request naming the parameter.
 */
export const PARAMETER_LIMITS: Readonly<Record<string, number>> = {
  // Random values of 16 to 64 characters in practice; a JSON state encoded by a library (MSAL) stays under 512.
  state: 1024,
  nonce: 512,
  // An e-mail address is at most 254 characters (RFC 5321).
  login_hint: 512,
  logout_hint: 512,
  acr_values: 512,
  // Space-separated language tags.
  ui_locales: 256,
  claims_locales: 256,
  // An ID token this server issued (the provider refuses any other): about 1 KB.
  id_token_hint: 4096,
  // URIs: registration allows 2000 characters (src/oauth/client-policy.ts), a Client ID Metadata Document's URL too.
  redirect_uri: 2048,
  post_logout_redirect_uri: 2048,
  client_id: 2048,
  resource: 2048,
  // Every scope this server knows, each once, is under 100 characters.
  scope: 1024,
  // RFC 7636: a verifier, so a plain challenge too, is at most 128 characters; an S256 challenge is 43.
  code_challenge: 128,
  // A pushed request's urn:ietf:params:oauth:request_uri: reference.
  request_uri: 256,
  // A JWK thumbprint: 43 characters.
  dpop_jkt: 128,
  prompt: 64,
  max_age: 16,
};

/** Any parameter the provider keeps that has no limit of its own (response_type, response_mode, display, ...). */
export const DEFAULT_PARAMETER_LIMIT = 256;

/** All of one request's parameters together: a request with every one at its limit is no request a client sends. */
export const PARAMETERS_TOTAL_LIMIT = 8192;
