import { createInterface } from 'node:readline';
import { responseFromParams, type AuthorizationResponse } from './authorize-url.js';

/*
 * The seed's manual code entry: the user pastes the code shown on the server's /callback page, or the whole
 * address of that page (which carries the state, so it is checked). Read from stdin, so it can be scripted.
 */

const PROMPT = 'Paste the authorization code, or the whole address of the page you landed on: ';

function parsePasted(text: string): AuthorizationResponse {
  const pasted = text.trim();
  if (/^https?:\/\//i.test(pasted) && URL.canParse(pasted)) return responseFromParams(new URL(pasted).searchParams);
  if (/[=&]/.test(pasted)) return responseFromParams(new URLSearchParams(pasted.replace(/^[^?]*\?/, '')));
  return pasted ? { code: pasted } : {};
}

/** The first non-empty line of stdin after the prompt; an empty response when stdin ends first. */
export async function readPasted(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<AuthorizationResponse> {
  output.write(PROMPT);
  const lines = createInterface({ input, terminal: false });
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      // A pasted line echoes on a terminal; from a pipe, end the prompt's line ourselves.
      if (!(input as { isTTY?: boolean }).isTTY) output.write('\n');
      return parsePasted(line);
    }
    return {};
  } finally {
    lines.close();
    if (input === process.stdin) process.stdin.pause();
  }
}
