import type { Middleware } from 'koa';
import type { AccountService } from './accounts.js';
import { LoginCredentials } from './rules.js';
import { readJson } from '../http/body.js';
import { Problem } from '../http/problem.js';
import { parseWith } from '../http/validate.js';
import type { SignIn } from '../oauth/sign-in.js';

/** One answer for unknown users and wrong passwords, so the endpoint does not tell which usernames exist. */
export const invalidCredentials = () => new Problem(401, 'invalid_credentials', 'the username or password is incorrect');

/** POST /oauth/login {username, password} → 200 {message} and a session cookie for /oauth/authorize. */
export function login(accounts: AccountService, signIn: SignIn): Middleware {
  return async function loginJson(ctx) {
    const { username, password } = parseWith(LoginCredentials, await readJson(ctx));
    const account = await accounts.authenticate(username, password, ctx.ip);
    if (!account) throw invalidCredentials();
    await signIn(ctx, account.id);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { message: 'Login successful' };
  };
}
