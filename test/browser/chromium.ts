import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { PageDocument } from './page-globals.js';

declare const document: PageDocument;
declare const reportCspViolation: (text: string) => void;

/**
 * Debian's chromium (`apt-get install chromium`), driven by playwright-core: playwright's own browser builds are
 * downloaded from the internet, which neither CI nor a developer machine here can reach.
 */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * --no-sandbox: we run as root. The background-networking, component-update and sync flags stop chromium from
 * calling Google's services, which on a closed network only produces a flood of failing connections.
 */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });

/** Wide enough for the 26rem card and its margins; the README's screenshots are taken at this size too. */
export const VIEWPORT = { width: 800, height: 600 };

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, uncaught exceptions and CSP violations so far, each with the page it happened on. */
  problems: string[];
  /** Fails with every problem seen so far. */
  expectNoProblems(): void;
}

/**
 * A new browser context and page that records what a person would see in the developer console: console
 * errors (chromium also reports refused resources there) and uncaught exceptions. CSP violations are taken from
 * the document's own `securitypolicyviolation` events as well, so they count whatever chromium's message says.
 */
export async function watchedPage(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: VIEWPORT, ...options });
  // Fail fast: a step that cannot happen should fail the test well within mocha's timeout, naming the step.
  context.setDefaultTimeout(10_000);
  const problems: string[] = [];
  // Bindings and init scripts are installed over the DevTools protocol, so the pages' CSP does not block them.
  await context.exposeBinding('reportCspViolation', ({ page }, text: string) => {
    problems.push(`${page.url()}: CSP violation: ${text}`);
  });
  // tsx compiles these tests with esbuild's keepNames, which wraps named functions in __name(); functions that
  // page.evaluate() sends to the page need that helper there too.
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      reportCspViolation(`${event.effectiveDirective} refused ${event.blockedURI || 'inline code'}`);
    });
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    // A refused resource's URL is only in the message's location, not in its text.
    if (message.type() === 'error') problems.push(`${page.url()}: console error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: uncaught ${error.name}: ${error.message}`));
  return {
    page,
    context,
    problems,
    expectNoProblems() {
      if (problems.length) throw new Error(`the browser reported:\n  ${problems.join('\n  ')}`);
    },
  };
}

/**
 * Launches chromium before the tests of the enclosing `describe` and closes it after them; `open()` gives each
 * test a fresh context (no cookies), closed after the test. Without chromium the suite is skipped on a
 * developer's machine and fails under CI=true, where .ci/run has installed it.
 */
export function useChromium(): { open(options?: BrowserContextOptions): Promise<WatchedPage> } {
  let browser: Browser | undefined;
  const open: BrowserContext[] = [];
  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const reason = `no chromium at ${CHROMIUM} (Debian: apt-get install chromium)`;
      if (process.env.CI) throw new Error(`${reason}; CI must run the browser tests`);
      console.warn(`    skipped: ${reason}`);
      this.skip();
    }
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((context) => context.close()));
  });
  after(async () => {
    await browser?.close();
  });
  return {
    async open(options) {
      if (!browser) throw new Error('useChromium: chromium is not running (open pages from a test)');
      const watched = await watchedPage(browser, options);
      open.push(watched.context);
      return watched;
    },
  };
}
