/**
 * Tries to show a URL in the user's browser. Failing is normal (a server over SSH, no desktop, no browser):
 * the URL is printed anyway, so this never throws; with --debug it says why it could not.
 */
export async function openBrowser(url: string, debug: boolean): Promise<void> {
  try {
    const { default: open } = await import('open');
    const launcher = await open(url);
    launcher.on('error', () => {});
  } catch (err) {
    if (debug) process.stderr.write(`(could not open a browser: ${err instanceof Error ? err.message : String(err)})\n`);
  }
}
