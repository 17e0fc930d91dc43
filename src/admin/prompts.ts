import { createInterface } from 'node:readline/promises';
import { fail } from './errors.js';

/*
 * Questions asked on the terminal, on stderr so that stdout keeps only the command's output. They are asked only
 * when stdin is a terminal: scripts pass --yes and --password instead (checked before anything is looked up).
 */

export const isInteractive = (): boolean => process.stdin.isTTY === true;

/** Asks a yes/no question; anything but y or yes (Ctrl-C and Ctrl-D too) is a no, and cancels the command. */
export async function confirm(question: string): Promise<void> {
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  const stop = new AbortController();
  lines.on('SIGINT', () => stop.abort());
  lines.on('close', () => stop.abort());
  let answer = '';
  try {
    answer = await lines.question(`${question} [y/N] `, { signal: stop.signal });
  } catch {
    process.stderr.write('\n');
  } finally {
    lines.close();
  }
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw fail.cancelled();
}

const ENTER = new Set(['\r', '\n']);
const CANCEL = new Set(['\u0003', '\u0004']);
const ERASE = new Set(['\u007f', '\b']);

/** Reads a line without echoing it: the terminal in raw mode, erasing with backspace, Ctrl-C or Ctrl-D to cancel. */
function readHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  // Echo off before the prompt shows: what is typed as soon as it appears must not reach the screen.
  input.setRawMode(true);
  process.stderr.write(prompt);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (outcome: () => void) => {
      input.off('data', read);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      outcome();
    };
    const read = (chunk: string) => {
      for (const char of chunk) {
        if (ENTER.has(char)) return finish(() => resolve(text));
        if (CANCEL.has(char)) return finish(() => reject(fail.cancelled()));
        if (ERASE.has(char)) text = [...text].slice(0, -1).join('');
        else if (char >= ' ') text += char;
      }
    };
    input.on('data', read);
  });
}

/** A new password, typed twice. */
export async function askNewPassword(username: string): Promise<string> {
  const password = await readHidden(`New password for ${username}: `);
  const again = await readHidden('The same password again: ');
  if (password !== again) throw fail.badInput('The two passwords differ; nothing was changed.');
  return password;
}
