import type { Account } from '../../adapters/stores.js';
import type { AccountService } from './accounts.js';
import { LoginCredentials } from './rules.js';

export type FormSignIn = { account: Account } | { error: string; status: 400 | 401 };

/**
 * Checks a sign-in form's username and password, with the words and status a form page shows when they fail.
 * Unknown users and wrong passwords get the same answer, so the form does not tell which usernames exist.
 */
export async function checkSignInForm(accounts: AccountService, form: Record<string, string>, ip: string): Promise<FormSignIn> {
  const parsed = LoginCredentials.safeParse(form);
  if (!parsed.success) return { error: 'Enter your username and password.', status: 400 };
  const account = await accounts.authenticate(parsed.data.username, parsed.data.password, ip);
  return account ? { account } : { error: 'The username or password is incorrect.', status: 401 };
}
