import { z } from 'zod';

/* The wire rules for credentials, shared by the JSON endpoints and the browser forms. */

export const USERNAME_RULE = '3 to 64 characters: letters, digits, ".", "_" or "-"';
export const PASSWORD_RULE = '8 to 1024 bytes';
export const PASSWORD_MAX_BYTES = 1024;

const passwordBytes = (p: string) => Buffer.byteLength(p, 'utf8');
/** A lone surrogate cannot be encoded: argon2 would hash a replacement character that other inputs also become. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s;

/** A string field, named in its errors: "is required" when it is missing. */
export const textField = (name: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be a string`) });

/** A password about to be set (at registration, or changed), named in its errors as the request names it. */
export const newPassword = (name: string) => textField(name)
  .refine((p) => passwordBytes(p) >= 8 && passwordBytes(p) <= PASSWORD_MAX_BYTES, `${name} must be ${PASSWORD_RULE}`)
  .refine(wellFormed, `${name} must be valid Unicode text`);

/** A password given to prove who one is: checked for shape only, as at login. */
export const presentedPassword = (name: string) => textField(name).min(1, `${name} is required`)
  .refine((p) => passwordBytes(p) <= PASSWORD_MAX_BYTES, `${name} must be at most ${PASSWORD_MAX_BYTES} bytes`)
  .refine(wellFormed, `${name} must be valid Unicode text`);

export const NewCredentials = z.object({
  username: z.string({ error: 'username must be a string' })
    .regex(/^[A-Za-z0-9._-]{3,64}$/, `username must be ${USERNAME_RULE}`),
  password: newPassword('password'),
});

/** Login checks shape only: a username that could never exist is simply unknown. */
export const LoginCredentials = z.object({
  username: z.string({ error: 'username must be a string' }).min(1, 'username is required').max(256, 'username is too long'),
  password: presentedPassword('password'),
});

export type Credentials = z.infer<typeof NewCredentials>;
