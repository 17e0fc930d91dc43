import type { Account } from '../../adapters/stores.js';
import { isAccountDisabled, type AccountService } from './accounts.js';
import { LoginCredentials, NewCredentials } from './rules.js';

export type FormSignIn = { account: Account } | { error: string; status: 400 | 401 | 403 };
export type FormRegistration = { account: Account } | { error: string; status: 400 | 409 };

/**
 * Checks a sign-in form's username and password, with the words and status a form page shows when they fail.
 * Unknown users and wrong passwords get the same answer, so the form does not tell which usernames exist.
 */
export async function checkSignInForm(accounts: AccountService, form: Record<string, string>, ip: string): Promise<FormSignIn> {
  const parsed = LoginCredentials.safeParse(form);
  if (!parsed.success) return { error: 'Enter your username and password.', status: 400 };
  let account;
  try {
    account = await accounts.authenticate(parsed.data.username, parsed.data.password, ip);
  } catch (err) {
    if (isAccountDisabled(err)) return { error: 'This account is disabled. Ask the operator of this server to enable it.', status: 403 };
    throw err;
  }
  return account ? { account } : { error: 'The username or password is incorrect.', status: 401 };
}

/**
 * Creates the account a registration form asks for (username, password, and the password again), or says in the
 * form's words why not. Counts against the registration limit as the JSON endpoint does (429 when over it).
 */
export async function registerFromForm(accounts: AccountService, form: Record<string, string>, ip: string): Promise<FormRegistration> {
  const parsed = NewCredentials.safeParse(form);
  if (!parsed.success) return { error: `The ${parsed.error.issues[0]?.message ?? 'invalid input'}.`, status: 400 };
  if (form.password !== form.confirm) return { error: 'The two passwords do not match.', status: 400 };
  const account = await accounts.register(parsed.data, ip);
  return account ? { account } : { error: 'That username is already taken.', status: 409 };
}
