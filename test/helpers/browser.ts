/**
 * A minimal user agent over fetch: keeps cookies (by name; enough for one host), follows redirects one hop at a
 * time so tests can look at each, and submits forms the way a browser without JavaScript would.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || attrs.some((a) => /max-age=0\b/i.test(a.trim()));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', this.cookieHeader());
    const res = await fetch(new URL(path, this.origin), { ...init, headers, redirect: 'manual' });
    this.remember(res);
    return res;
  }

  /** Follows redirects on this origin; stops at the first non-redirect or at another origin. */
  async follow(path: string, init: RequestInit = {}): Promise<{ res: Response; url: URL }> {
    let url = new URL(path, this.origin);
    let res = await this.fetch(url.href, init);
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 10; hops++) {
      url = new URL(res.headers.get('location')!, url);
      if (url.origin !== this.origin) break;
      await res.body?.cancel();
      res = await this.fetch(url.href);
    }
    return { res, url };
  }

  /** Submits a form found in `html` (by its action path fragment) with the given fields added to its hidden ones. */
  async submit(html: string, actionContains: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    const form = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)]
      .find((m) => m[1]!.includes(actionContains));
    if (!form) throw new Error(`no form with an action containing ${actionContains}`);
    const hidden = Object.fromEntries([...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)]
      .map((m) => [m[1]!, decodeEntities(m[2]!)]));
    return this.follow(decodeEntities(form[1]!), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
      body: new URLSearchParams({ ...hidden, ...fields }).toString(),
    });
  }
}

export function decodeEntities(s: string): string {
  return s.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
