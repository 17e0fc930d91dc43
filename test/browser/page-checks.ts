import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { PageDocument, PageElement, PageField, PageStyle } from './page-globals.js';

declare const document: PageDocument;
declare const getComputedStyle: (element: PageElement) => PageStyle;
declare const scrollY: number;
declare const Node: { TEXT_NODE: number };

/**
 * Accessibility basics of a page as chromium lays it out: labelled fields, a keyboard path through every control
 * in visual order with a visible focus, readable text contrast in the light and the dark scheme, and no
 * sideways scrolling on a narrow phone. Call it right after a page has loaded: it presses Tab from where the
 * page put the focus, and Shift+Tab back there, so a test goes on with the keyboard as a person who just
 * arrived would.
 */
export async function expectUsablePage(page: Page): Promise<void> {
  const where = new URL(page.url()).pathname;
  expect(await unlabelledFields(page), `fields without a label on ${where}`).to.deep.equal([]);
  await expectKeyboardPath(page, where);
  for (const colorScheme of ['dark', 'light'] as const) {
    await page.emulateMedia({ colorScheme });
    expect(await lowContrastText(page), `text below WCAG AA contrast on ${where} (${colorScheme})`).to.deep.equal([]);
  }
  expect(await overflowsAt(page, 320), `${where} scrolls sideways 320 px wide (WCAG reflow)`).to.equal(false);
}

/** Every visible form field has a label with text, or an ARIA name. */
function unlabelledFields(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll<PageField>('input, select, textarea')]
    .filter((field) => field.type !== 'hidden')
    .filter((field) => {
      const byLabel = [...(field.labels ?? [])].some((label) => label.textContent?.trim());
      const byAria = field.getAttribute('aria-label')?.trim()
        || (field.getAttribute('aria-labelledby') ?? '').split(/\s+/).some((id) => document.getElementById(id)?.textContent?.trim());
      return !byLabel && !byAria;
    })
    .map((field) => field.outerHTML));
}

/**
 * The id of the element that has the focus once the page has placed it: chromium applies `autofocus` in a
 * rendering step after the load event, so a page with an autofocus field is given a moment to do so.
 */
export async function initialFocus(page: Page): Promise<string | undefined> {
  await page.waitForFunction(() => !document.querySelector('[autofocus]') || document.activeElement !== document.body,
    undefined, { timeout: 2000 }).catch(() => { /* no focus placed: the caller's expectation says so */ });
  return page.evaluate(() => (document.activeElement === document.body ? undefined : document.activeElement?.id));
}

interface Control {
  /** Position among all elements: identifies it across evaluate() calls (the page does not change meanwhile). */
  key: number;
  name: string;
  top: number;
  bottom: number;
  left: number;
  outlined: boolean;
}

/**
 * Tab from the page's initial focus (its autofocus field, else the first Tab stop) through as many stops as the
 * page has controls: every control must come up once, each below (or on the same line, right of) the one
 * before, and each must show a focus outline. Then Shift+Tab must retrace the path to the initial focus, or
 * past the first stop out of the page when the page had placed none.
 */
async function expectKeyboardPath(page: Page, where: string) {
  const controls = await page.evaluate(() => {
    const all = [...document.querySelectorAll('*')];
    return all.filter((el) => el.matches('a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])')
      && el.getClientRects().length > 0)
      .map((el) => all.indexOf(el));
  });

  const focused = () => page.evaluate((): Control | undefined => {
    const el = document.activeElement;
    if (!el || el === document.body) return undefined;
    const rect = el.getBoundingClientRect();
    const text = (el.getAttribute('aria-label') ?? (el.textContent?.trim() || el.id)).replace(/\s+/g, ' ');
    const style = getComputedStyle(el);
    return {
      key: [...document.querySelectorAll('*')].indexOf(el),
      name: `${el.tagName.toLowerCase()} "${text}"`,
      top: rect.top + scrollY,
      bottom: rect.bottom + scrollY,
      left: rect.left,
      outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    };
  });

  const path: Control[] = [];
  await initialFocus(page);
  const placed = await focused();
  let current = placed;
  if (!current) {
    await page.keyboard.press('Tab');
    current = await focused();
  }
  while (current) {
    path.push(current);
    if (path.length === controls.length) break;
    await page.keyboard.press('Tab');
    current = await focused();
  }
  const names = path.map((c) => c.name).join(' → ');
  expect(path.map((c) => c.key).sort((a, b) => a - b), `Tab on ${where} reaches every control once (got ${names})`)
    .to.deep.equal([...controls].sort((a, b) => a - b));
  for (const [i, next] of path.entries()) {
    expect(next.outlined, `${next.name} on ${where} shows no focus outline`).to.equal(true);
    const prev = path[i - 1];
    if (!prev) continue;
    const sameLine = next.top < prev.bottom && next.bottom > prev.top;
    const followsVisually = sameLine ? next.left > prev.left : next.top >= prev.bottom - 1;
    expect(followsVisually, `on ${where}, Tab goes from ${prev.name} to ${next.name}, which is not after it on the page`).to.equal(true);
  }

  for (let i = path.length - 2; i >= 0; i--) {
    await page.keyboard.press('Shift+Tab');
    const back = await focused();
    expect(back?.key, `on ${where}, Shift+Tab from ${path[i + 1]!.name} goes to ${back?.name ?? 'nothing'}, not back to ${path[i]!.name}`)
      .to.equal(path[i]!.key);
  }
  if (!placed && path.length) {
    await page.keyboard.press('Shift+Tab');
    const back = await focused();
    expect(back?.name, `on ${where}, Shift+Tab from the first stop leaves the page, as it was before the first Tab`).to.equal(undefined);
  }
}

/**
 * Visible text (and the value of text fields) whose colour against the background behind it falls below WCAG
 * AA: 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
 */
function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgba = (css: string) => {
      const m = /^rgba?\(([^)]*)\)$/.exec(css);
      if (!m) throw new Error(`cannot read the colour ${css}`);
      const [r = 0, g = 0, b = 0, a = 1] = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const luminance = ({ r, g, b }: { r: number; g: number; b: number }) => {
      const [R = 0, G = 0, B = 0] = [r, g, b].map((v) => {
        const c = v / 255;
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    /** The first opaque-ish background from the element up; the page's canvas is the body's here. */
    const backgroundOf = (el: PageElement | null) => {
      for (let node = el; node; node = node.parentElement) {
        const bg = rgba(getComputedStyle(node).backgroundColor);
        if (bg.a > 0) return bg;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const failures: string[] = [];
    for (const el of document.querySelectorAll<PageField>('body *')) {
      const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent?.trim());
      const fieldText = el.tagName === 'INPUT' && el.type !== 'hidden' && el.value !== '';
      if ((!ownText && !fieldText) || el.getClientRects().length === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility !== 'visible') continue;
      const background = backgroundOf(el);
      const fg = luminance(rgba(style.color));
      const bg = luminance(background);
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const needed = large ? 3 : 4.5;
      if (ratio < needed) {
        const text = (el.textContent?.trim() || el.value).slice(0, 40);
        failures.push(`${el.tagName.toLowerCase()} "${text}": ${ratio.toFixed(2)}:1 (${style.color} on rgb(${background.r}, ${background.g}, ${background.b})), needs ${needed}:1`);
      }
    }
    return failures;
  });
}

/** Whether the page is wider than a viewport `width` px wide (then restores the viewport). */
async function overflowsAt(page: Page, width: number): Promise<boolean> {
  const before = page.viewportSize();
  await page.setViewportSize({ width, height: 640 });
  const overflows = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
  if (before) await page.setViewportSize(before);
  return overflows;
}
