import { Problem } from '../http/problem.js';

/**
 * SIGNUP=closed: nobody creates an account of their own, by the JSON endpoint or by a page; an operator creates them.
 * Refused before anything is read or counted, so a closed sign-up stores nothing and uses up no one's limits.
 */
export const signupClosed = () => new Problem(403, 'signup_closed',
  'sign-up is closed on this server: an operator creates accounts; ask the operator of this server for one');
