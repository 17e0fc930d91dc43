import Router from '@koa/router';
import type { AccountService } from '../accounts/accounts.js';
import { htmlErrors } from '../http/errors.js';
import { callbackPage } from './callback.js';
import { login } from './login.js';
import { register } from './register.js';
import type { SignIn } from './sign-in.js';

/** The seed's own endpoints; everything else under /oauth/ is the provider's. */
export function seedRoutes(accounts: AccountService, signIn: SignIn, signupOpen: boolean): Router {
  const router = new Router();
  router.post('/oauth/register', register(accounts, signupOpen));
  router.post('/oauth/login', login(accounts, signIn));
  router.get('/callback', htmlErrors, callbackPage);
  return router;
}
