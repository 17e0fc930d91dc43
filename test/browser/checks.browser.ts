import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { until } from '../helpers/assertions.js';
import { authorizeUrl } from '../helpers/seed.js';
import { useTestServer } from '../helpers/server.js';
import { useChromium } from './chromium.js';
import { expectUsablePage } from './page-checks.js';
import type { PageDocument } from './page-globals.js';

declare const document: PageDocument;

/**
 * The other browser tests pass when nothing is reported: these show that the console watcher and the page
 * checks do report, on our login page spoiled on purpose.
 */
describe('the browser checks themselves', () => {
  const server = useTestServer();
  const chrome = useChromium();

  it('the console watcher reports a CSP violation (and the CSP really blocks inline script) and an uncaught exception', async () => {
    const { page, problems, expectNoProblems } = await chrome.open();
    await page.goto(authorizeUrl(server.url));
    expectNoProblems();

    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'document.body.dataset.inline = "ran"';
      document.head.append(script);
      setTimeout(() => { throw new Error('spoiled on purpose'); });
    });
    expect(await until(() => problems.some((p) => p.includes('spoiled on purpose')), 2000), 'the exception reported').to.equal(true);
    expect(await page.evaluate(() => document.body.dataset.inline), 'the inline script ran').to.equal(undefined);
    expect(problems.some((p) => /CSP violation: script-src/.test(p)), problems.join('\n')).to.equal(true);
    expect(problems.some((p) => /console error: .*Content Security Policy/.test(p)), problems.join('\n')).to.equal(true);
    expect(problems.some((p) => /uncaught Error: spoiled on purpose/.test(p)), problems.join('\n')).to.equal(true);
    expect(expectNoProblems).to.throw(/the browser reported/);
  });

  /** What expectUsablePage says about the login page after `spoil` ran in it. */
  async function complaintAbout(page: Page, spoil: () => void): Promise<string> {
    await page.goto(authorizeUrl(server.url));
    await page.evaluate(spoil);
    try {
      await expectUsablePage(page);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expectUsablePage passed a spoiled page');
  }

  it('the page checks report an unlabelled field, a control out of visual order, a Shift+Tab that does not go back, faint text and a page wider than a phone', async () => {
    const { page } = await chrome.open();
    await page.goto(authorizeUrl(server.url));
    await expectUsablePage(page);

    expect(await complaintAbout(page, () => {
      document.querySelector('form')!.append(Object.assign(document.createElement('input'), { name: 'unlabelled' }));
    })).to.match(/fields without a label/);
    expect(await complaintAbout(page, () => {
      document.querySelector('main')!.prepend(document.querySelector('p.alt')!);
    })).to.match(/Tab/);
    expect(await complaintAbout(page, () => {
      document.addEventListener('keydown', (event) => {
        if (event.key === 'Tab' && event.shiftKey) event.preventDefault();
      });
    })).to.match(/Shift\+Tab from .* not back to/);
    expect(await complaintAbout(page, () => {
      document.querySelector('h1')!.style.color = '#eeeeee';
    })).to.match(/contrast .*\(light\)/);
    expect(await complaintAbout(page, () => {
      const wide = document.createElement('div');
      wide.style.width = '600px';
      wide.style.height = '1em';
      document.querySelector('main')!.append(wide);
    })).to.match(/scrolls sideways/);
  });
});
