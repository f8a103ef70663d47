import { errorBox, loading } from './components.js';
import { config } from './config.js';
import { h, replace } from './dom.js';
import { PAGE_PATHS, type PagePath } from '../../src/ui/routes.js';

export interface PageContext {
  params: Record<string, string>;
  query: URLSearchParams;
  main: HTMLElement;
  /** Navigate within the explorer (pushes history). */
  go(url: string): void;
}

export interface Page {
  title(ctx: PageContext): string;
  render(ctx: PageContext): Promise<void>;
}

interface Route {
  pattern: RegExp;
  keys: string[];
  nav?: string;
  load: () => Promise<Page>;
}

/** Pages load on demand, so a first visit fetches only the shell and the page it opens. */
const PAGES: Record<PagePath, { nav?: string; load: () => Promise<Page> }> = {
  '/': { load: () => import('./pages/home.js').then((m) => m.home) },
  '/patients': { nav: '/patients', load: () => import('./pages/patient-search.js').then((m) => m.patientSearch) },
  '/patients/:id': { nav: '/patients', load: () => import('./pages/patient-record.js').then((m) => m.patientRecord) },
  '/browse': { nav: '/browse', load: () => import('./pages/browse-types.js').then((m) => m.browseTypes) },
  '/browse/:type': { nav: '/browse', load: () => import('./pages/browse.js').then((m) => m.browse) },
  '/resources/:type/:id': { nav: '/browse', load: () => import('./pages/resource-view.js').then((m) => m.resourceView) },
  '/validate': { nav: '/validate', load: () => import('./pages/validate.js').then((m) => m.validatePage) },
  '/profiles': { nav: '/profiles', load: () => import('./pages/profiles.js').then((m) => m.profiles) },
  '/profiles/:id': { nav: '/profiles', load: () => import('./pages/profile.js').then((m) => m.profile) },
  '/api': { nav: '/api', load: () => import('./pages/api-docs.js').then((m) => m.apiDocs) },
  '/sign-in': { load: () => import('./pages/sign-in.js').then((m) => m.signInPage) },
  '/sign-in/callback': { load: () => import('./pages/sign-in-callback.js').then((m) => m.signInCallback) },
  '/audit': { nav: '/audit', load: () => import('./pages/audit.js').then((m) => m.auditPage) },
};

// The server answers the same paths with the app (src/ui/routes.ts), so a reload lands on the same page.
const routes: Route[] = PAGE_PATHS.map((path) => route(path, PAGES[path].nav, PAGES[path].load));

function route(path: string, nav: string | undefined, load: () => Promise<Page>): Route {
  const keys: string[] = [];
  const source = path.replace(/:(\w+)/g, (_m, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${source}/?$`), keys, ...(nav ? { nav } : {}), load };
}

let renderCount = 0;

/** Draws the page for the current location. A failure shows its reason in the page, never a blank screen. */
async function render(focus: boolean): Promise<void> {
  const main = document.getElementById('maincontent')!;
  const mine = ++renderCount;
  const path = location.pathname;
  const found = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  markNavigation(found?.r.nav);
  returnHere();
  replace(main, loading());
  const ctx: PageContext = { params: {}, query: new URLSearchParams(location.search), main, go: navigate };
  try {
    if (!found) {
      document.title = 'Page not found - Care Connect explorer';
      replace(main, h('h1', { class: 'nhsuk-heading-l', tabindex: '-1' }, 'Page not found'), h('p', { class: 'nhsuk-body' }, 'There is no page at this address. ', h('a', { href: '/' }, 'Go to the explorer home page'), '.'));
    } else {
      found.r.keys.forEach((k, i) => (ctx.params[k] = decodeURIComponent(found.m![i + 1]!)));
      const page = await found.r.load();
      document.title = `${page.title(ctx)} - Care Connect explorer`;
      await page.render(ctx);
    }
  } catch (err) {
    if (mine !== renderCount) return;
    replace(main, h('h1', { class: 'nhsuk-heading-l', tabindex: '-1' }, 'Something went wrong'), errorBox(err));
  }
  if (mine !== renderCount) return;
  main.setAttribute('data-ready', String(mine));
  if (focus) (main.querySelector('h1') ?? main).focus({ preventScroll: false });
}

function markNavigation(nav: string | undefined): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>('.nhsuk-header__navigation-link[href]')) {
    const current = a.getAttribute('href') === nav;
    a.parentElement?.classList.toggle('nhsuk-header__navigation-item--current', current);
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** The header's "Sign in" comes back to the page it was chosen on. */
function returnHere(): void {
  const a = document.getElementById('sign-in-link') as HTMLAnchorElement | null;
  if (!a) return;
  const here = location.pathname + location.search;
  a.href = location.pathname.startsWith('/sign-in') || here === '/' ? '/sign-in' : `/sign-in?return=${encodeURIComponent(here)}`;
}

export function navigate(url: string): void {
  history.pushState(null, '', url);
  window.scrollTo(0, 0);
  void render(true);
}

/** Same-origin links to explorer pages are handled here; the API's own URLs and downloads load normally. */
function explorerPath(a: HTMLAnchorElement): string | undefined {
  if (a.target || a.hasAttribute('download') || a.hasAttribute('data-external')) return undefined;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return undefined;
  for (const base of [config.openBase, config.secureBase, config.signIn?.available ? config.signIn.issuer : undefined]) {
    if (!base) continue;
    const apiPath = new URL(base, location.href).pathname;
    if (url.pathname === apiPath || url.pathname.startsWith(`${apiPath}/`)) return undefined;
  }
  if (url.pathname.startsWith('/assets/') || url.pathname === '/openapi.json') return undefined;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return undefined;
  return url.pathname + url.search + url.hash;
}

export function startRouter(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const a = (event.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
    if (!a) return;
    const to = explorerPath(a);
    if (to === undefined) return;
    event.preventDefault();
    navigate(to);
  });
  window.addEventListener('popstate', () => void render(true));
  void render(false);
}
