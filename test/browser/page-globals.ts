/**
 * The browser as seen by the functions these tests send to chromium (page.evaluate, waitForFunction,
 * addInitScript). The project type-checks as one Node program, where TypeScript's DOM library would change the
 * types of fetch bodies that the server's tests rely on; so a file that runs code in the page declares the few
 * globals it uses with these types (`declare const document: PageDocument;`), which cover what the tests touch
 * and nothing more.
 */

export interface PageNode {
  nodeType: number;
  textContent: string | null;
}

export interface PageElement extends PageNode {
  tagName: string;
  id: string;
  outerHTML: string;
  parentElement: PageElement | null;
  childNodes: Iterable<PageNode>;
  style: Record<string, string>;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  matches(selector: string): boolean;
  getClientRects(): { length: number };
  getBoundingClientRect(): { top: number; bottom: number; left: number; right: number };
  append(...nodes: PageElement[]): void;
  prepend(...nodes: PageElement[]): void;
}

/** An input, select or textarea. */
export interface PageField extends PageElement {
  type: string;
  value: string;
  labels: Iterable<PageElement> | null;
}

export interface PageDocument {
  activeElement: PageElement | null;
  body: PageElement;
  head: PageElement;
  documentElement: PageElement & { scrollWidth: number; clientWidth: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll<E extends PageElement = PageElement>(selector: string): Iterable<E>;
  getElementById(id: string): PageElement | null;
  createElement(tag: string): PageElement;
  addEventListener(type: 'securitypolicyviolation', listener: (event: { effectiveDirective: string; blockedURI: string }) => void): void;
  addEventListener(type: 'keydown', listener: (event: { key: string; shiftKey: boolean; preventDefault(): void }) => void): void;
}

/** What getComputedStyle() answers, as far as the checks read it. */
export interface PageStyle {
  color: string;
  backgroundColor: string;
  visibility: string;
  fontSize: string;
  fontWeight: string;
  outlineStyle: string;
  outlineWidth: string;
}
