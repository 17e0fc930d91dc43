import { z } from 'zod';
import { newPassword, presentedPassword, textField } from '../accounts/rules.js';
import { invalidRequest, Problem } from '../http/problem.js';

/*
 * The fields of the account forms on /account, the same whether the page posts them or a script sends them as JSON.
 * Each error names the field in words, for the page and for a script alike.
 */

/** What deleting an account asks besides the password: the username, typed. */
export const CONFIRM_USERNAME = 'type your username to confirm';

export const PasswordChange = z.object({
  current_password: presentedPassword('the current password'),
  new_password: newPassword('the new password'),
  confirm_password: textField('the repeated new password'),
}).refine((form) => form.new_password === form.confirm_password, 'the two new passwords do not match');

export const AccountDeletion = z.object({
  password: presentedPassword('the password'),
  confirm_username: z.string({ error: CONFIRM_USERNAME }),
});

/** The form's fields, or 400 with the first problem. */
export function parseAccountForm<S extends z.ZodType>(schema: S, form: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(form);
  if (!parsed.success) throw invalidRequest(parsed.error.issues[0]?.message ?? 'the form is incomplete');
  return parsed.data;
}

/** A wrong password where the signed-in user had to give theirs: 403, since the session itself is fine. */
export const wrongPassword = (which: string) => new Problem(403, 'invalid_credentials', `${which} is incorrect`);
