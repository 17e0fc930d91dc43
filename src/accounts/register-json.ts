import type { Middleware } from 'koa';
import type { AccountService } from './accounts.js';
import { NewCredentials } from './rules.js';
import { signupClosed } from './signup.js';
import { readJson } from '../http/body.js';
import { Problem } from '../http/problem.js';
import { parseWith } from '../http/validate.js';

/** POST /oauth/register {username, password} → 201 {message, userId}; 403 signup_closed while SIGNUP=closed. */
export function register(accounts: AccountService, signupOpen: boolean): Middleware {
  return async function registerJson(ctx) {
    if (!signupOpen) throw signupClosed();
    const credentials = parseWith(NewCredentials, await readJson(ctx));
    const account = await accounts.register(credentials, ctx.ip);
    if (!account) throw new Problem(409, 'username_taken', 'that username is already taken');
    ctx.status = 201;
    ctx.body = { message: 'Registration successful', userId: account.id };
  };
}
