/* What the commands print: results on stdout, one line at a time. Tokens appear only with --show-tokens. */

export function say(...lines: string[]): void {
  for (const line of lines) process.stdout.write(`${line}\n`);
}

/** Lines of "label: value", the values aligned. */
export function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
}

export function tokenLines(tokens: { access_token: string; refresh_token?: string }): [string, string][] {
  return [['Access token', tokens.access_token], ['Refresh token', tokens.refresh_token ?? '(none)']];
}
