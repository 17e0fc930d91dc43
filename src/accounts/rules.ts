import { z } from 'zod';

/* The wire rules for credentials, shared by the JSON endpoints and the browser forms. */

export const USERNAME_RULE = '3 to 64 characters: letters, digits, ".", "_" or "-"';
export const PASSWORD_RULE = '8 to 1024 bytes';
export const PASSWORD_MAX_BYTES = 1024;

const passwordBytes = (p: string) => Buffer.byteLength(p, 'utf8');
/** A lone surrogate cannot be encoded: argon2 would hash a replacement character that other inputs also become. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s;
const WELL_FORMED = 'password must be valid Unicode text';

export const NewCredentials = z.object({
  username: z.string({ error: 'username must be a string' })
    .regex(/^[A-Za-z0-9._-]{3,64}$/, `username must be ${USERNAME_RULE}`),
  password: z.string({ error: 'password must be a string' })
    .refine((p) => passwordBytes(p) >= 8 && passwordBytes(p) <= PASSWORD_MAX_BYTES, `password must be ${PASSWORD_RULE}`)
    .refine(wellFormed, WELL_FORMED),
});

/** Login checks shape only: a username that could never exist is simply unknown. */
export const LoginCredentials = z.object({
  username: z.string({ error: 'username must be a string' }).min(1, 'username is required').max(256, 'username is too long'),
  password: z.string({ error: 'password must be a string' }).min(1, 'password is required')
    .refine((p) => passwordBytes(p) <= PASSWORD_MAX_BYTES, `password must be at most ${PASSWORD_MAX_BYTES} bytes`)
    .refine(wellFormed, WELL_FORMED),
});

export type Credentials = z.infer<typeof NewCredentials>;
