/**
 * The scope catalogue: every scope the server knows, with the words a person reads on a consent page.
 * One list, so pages, discovery and tokens never disagree.
 */
export const OIDC_SCOPES = {
  openid: 'Sign you in with your account',
  profile: 'See your user id and username',
  offline_access: 'Stay connected when you are not using it',
} as const;

/** What a request without `scope` gets (the seed's authorize URL has none). */
export const DEFAULT_SCOPE = 'openid profile';

/** Which claims each scope releases; userinfo answers with exactly these. */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['id', 'username', 'preferred_username'],
};
