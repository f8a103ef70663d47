/**
 * Signing in at the embedded authorization server as a person would, without a real
 * browser: used by the tests of the secure API and by the benchmarks, which need real
 * tokens. No test assertions here, so that the benchmarks can use it too.
 */

/**
 * A browser as far as the authorization pages need one: a cookie jar, redirects followed
 * one by one within the server's origin, and forms posted as a browser posts them.
 */
export class Browser {
  private readonly jar = new Map<string, string>();
  constructor(private readonly origin: string) {}

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(new URL(url, this.origin), { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(set) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  /** Follows redirects while they stay on the server; returns where it stopped (a page, or a redirect elsewhere). */
  async go(url: string, init: RequestInit = {}): Promise<{ url: string; status: number; html: string }> {
    let res = await this.request(url, init);
    let at = new URL(url, this.origin).href;
    while (res.status >= 300 && res.status < 400) {
      const location = new URL(res.headers.get('location')!, at).href;
      if (!location.startsWith(this.origin)) return { url: location, status: res.status, html: '' };
      at = location;
      res = await this.request(location);
    }
    return { url: at, status: res.status, html: await res.text() };
  }

  /** Posts the page's form whose action ends with `suffix`, with these fields. */
  submit(page: { html: string }, suffix: string, fields: Record<string, string>): Promise<{ url: string; status: number; html: string }> {
    const actions = [...page.html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    const action = actions.find((a) => a.endsWith(suffix));
    if (!action) throw new Error(`No form posting to …${suffix} on the page:\n${page.html}`);
    return this.go(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }
}

/** Who signs in, and the patient they pick when the picker is shown. */
export interface SignInAs {
  username: string;
  password: string;
  patient?: string;
}

/**
 * Follows an authorization URL through the sign-in, patient picker and consent pages
 * until it leaves the server (the redirect to the app, with the code); returns where it
 * stopped and the pages seen on the way.
 */
export async function signIn(browser: Browser, authorizationUrl: string, as: SignInAs): Promise<{ page: { url: string; status: number; html: string }; pages: string[] }> {
  const origin = new URL(authorizationUrl).origin;
  const pages: string[] = [];
  let page = await browser.go(authorizationUrl);
  for (let step = 0; step < 6 && page.url.startsWith(origin); step++) {
    pages.push(page.html);
    if (page.html.includes('<title>Sign in</title>')) page = await browser.submit(page, '/login', { username: as.username, password: as.password });
    else if (page.html.includes('<title>Choose a patient</title>') && as.patient) page = await browser.submit(page, '/patient', { patient: as.patient });
    else if (page.html.includes('<title>Allow access?</title>')) page = await browser.submit(page, '/confirm', { decision: 'allow' });
    else throw new Error(`Unexpected page (${page.status}) at ${page.url}:\n${page.html}`);
  }
  return { page, pages };
}
