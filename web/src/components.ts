import { ApiError } from './api.js';
import { api, config, signedIn } from './config.js';
import { h, replace, type Child } from './dom.js';
import { clearSession } from './session.js';
import type { Bundle, Issue } from './fhir-types.js';

/** The page's heading; the router moves focus to it after each navigation. */
export function heading(text: string, caption?: string): HTMLElement {
  return h('h1', { class: 'nhsuk-heading-l', tabindex: '-1' }, caption ? h('span', { class: 'nhsuk-caption-l' }, caption, h('span', { class: 'nhsuk-u-visually-hidden' }, ' - ')) : null, text);
}

/**
 * An API error in the page: the OperationOutcome's own words, each issue with
 * where it applies, so a failed call never leaves a blank screen.
 */
export function errorBox(err: unknown, title = 'There is a problem'): HTMLElement {
  const issues: Issue[] = err instanceof ApiError && err.outcome?.issue?.length ? err.outcome.issue : [];
  const message = err instanceof Error ? err.message : String(err);
  return h(
    'div',
    { class: 'nhsuk-error-summary', tabindex: '-1', 'data-api-error': err instanceof ApiError ? String(err.status) : 'client' },
    h(
      'div',
      { role: 'alert' },
      h('h2', { class: 'nhsuk-error-summary__heading' }, title),
      h(
      'div',
      { class: 'nhsuk-error-summary__body' },
      issues.length
        ? h('ul', { class: 'nhsuk-list nhsuk-error-summary__list' }, issues.map((i) => h('li', null, h('span', { class: 'ccri-error-text' }, i.details?.text ?? i.diagnostics ?? i.code ?? ''), where(i))))
        : h('p', { class: 'ccri-error-text' }, message),
        err instanceof ApiError && err.url ? h('p', { class: 'nhsuk-body-s' }, 'Request: ', h('code', { class: 'ccri-break' }, err.url)) : null,
        err instanceof ApiError && (err.status === 401 || err.status === 403) ? signInOffer(err.status) : null,
      ),
    ),
  );
}

/**
 * After a 401 (no token, or one no longer accepted: expired, revoked) or a 403 (a token that
 * does not allow this), the way on: sign in (again), or go back to the open API.
 */
function signInOffer(status: number): Child {
  const s = config.signIn;
  if (!s?.available) return s ? h('p', { class: 'nhsuk-body-s' }, s.reason) : null;
  const here = location.pathname + location.search;
  const why = status === 401 ? (signedIn() ? 'Your sign-in has ended or is no longer accepted.' : 'This needs you to sign in.') : 'Your sign-in does not allow this.';
  return h(
    'p',
    { class: 'nhsuk-body', 'data-sign-in-offer': String(status) },
    `${why} `,
    h('a', { href: `/sign-in?return=${encodeURIComponent(here)}` }, signedIn() ? 'Sign in again' : 'Sign in'),
    // A token refused with 401 is no use any more: forgetting it here is all there is to do.
    status === 401 && signedIn() && config.openBase !== config.secureBase
      ? [
          ' or ',
          h('a', { href: here, 'data-external': true, onclick: () => clearSession() }, 'continue without signing in'),
          ' (the open API).',
        ]
      : '.',
  );
}

function where(i: Issue): Child {
  const at = i.expression?.[0] ?? i.location?.[0];
  return at ? [' ', h('span', { class: 'nhsuk-body-s' }, '(at ', h('code', null, at), ')')] : null;
}

export function table(caption: string, headers: string[], rows: Child[][], options: { captionHidden?: boolean; id?: string } = {}): HTMLElement {
  return h(
    'div',
    { class: 'ccri-table-scroll', tabindex: '0', role: 'region', 'aria-label': caption },
    h(
      'table',
      { class: 'nhsuk-table', ...(options.id ? { id: options.id } : {}) },
      h('caption', { class: options.captionHidden ? 'nhsuk-u-visually-hidden' : 'nhsuk-table__caption' }, caption),
      h('thead', { class: 'nhsuk-table__head' }, h('tr', { class: 'nhsuk-table__row' }, headers.map((x) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, x)))),
      h('tbody', { class: 'nhsuk-table__body' }, rows.map((r) => h('tr', { class: 'nhsuk-table__row' }, r.map((c) => h('td', { class: 'nhsuk-table__cell' }, c))))),
    ),
  );
}

export function summaryList(rows: Array<[string, Child]>, attrs: Record<string, string> = {}): HTMLElement {
  return h(
    'dl',
    { class: 'nhsuk-summary-list', ...attrs },
    rows.map(([k, v]) => h('div', { class: 'nhsuk-summary-list__row' }, h('dt', { class: 'nhsuk-summary-list__key' }, k), h('dd', { class: 'nhsuk-summary-list__value' }, v))),
  );
}

export function tag(text: string, colour?: 'white' | 'grey' | 'green' | 'aqua-green' | 'blue' | 'purple' | 'pink' | 'red' | 'orange' | 'yellow'): HTMLElement {
  return h('strong', { class: `nhsuk-tag${colour ? ` nhsuk-tag--${colour}` : ''}` }, text);
}

export function link(href: string, text: Child, attrs: Record<string, string> = {}): HTMLAnchorElement {
  return h('a', { href, ...attrs }, text);
}

export function loading(what = 'Loading'): HTMLElement {
  return h('p', { class: 'nhsuk-body ccri-loading', role: 'status' }, `${what}…`);
}

/** Previous and next through a Bundle's own links; `to` turns an API link into an explorer URL. */
export function pagination(bundle: Bundle, to: (apiUrl: string) => string): HTMLElement | null {
  const find = (rel: string) => bundle.link?.find((l) => l.relation === rel)?.url;
  const prev = find('previous') ?? find('prev');
  const next = find('next');
  if (!prev && !next) return null;
  return h(
    'nav',
    { class: 'nhsuk-pagination', role: 'navigation', 'aria-label': 'Pagination' },
    h(
      'ul',
      { class: 'nhsuk-list nhsuk-pagination__list' },
      prev ? h('li', { class: 'nhsuk-pagination-item--previous' }, h('a', { class: 'nhsuk-pagination__link nhsuk-pagination__link--prev', href: to(prev), rel: 'prev' }, h('span', { class: 'nhsuk-pagination__title' }, 'Previous', h('span', { class: 'nhsuk-u-visually-hidden' }, ' page')), h('span', { class: 'nhsuk-u-visually-hidden' }, ':'), h('span', { class: 'nhsuk-pagination__page' }, 'Earlier results'))) : null,
      next ? h('li', { class: 'nhsuk-pagination-item--next' }, h('a', { class: 'nhsuk-pagination__link nhsuk-pagination__link--next', href: to(next), rel: 'next' }, h('span', { class: 'nhsuk-pagination__title' }, 'Next', h('span', { class: 'nhsuk-u-visually-hidden' }, ' page')), h('span', { class: 'nhsuk-u-visually-hidden' }, ':'), h('span', { class: 'nhsuk-pagination__page' }, 'More results'))) : null,
    ),
  );
}

/** Text in a box with a button that copies it. */
export function copyBlock(label: string, text: string, attrs: Record<string, string> = {}, copyLabel = `Copy the ${label}`): HTMLElement {
  const status = h('span', { class: 'nhsuk-body-s ccri-copy-status', role: 'status' });
  return h(
    'div',
    { class: 'ccri-copy' },
    h('p', { class: 'nhsuk-body-s nhsuk-u-margin-bottom-1' }, h('strong', null, label)),
    h('pre', { class: 'ccri-code ccri-copy__text' }, h('code', attrs, text)),
    h(
      'button',
      {
        type: 'button',
        class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small',
        onclick: () => {
          navigator.clipboard?.writeText(text).then(
            () => (status.textContent = 'Copied'),
            () => (status.textContent = 'Select the text to copy it'),
          );
        },
      },
      copyLabel,
    ),
    ' ',
    status,
  );
}

export function card(title: string, body: Child, attrs: Record<string, string> = {}): HTMLElement {
  return h('div', { class: 'nhsuk-card', ...attrs }, h('div', { class: 'nhsuk-card__content' }, h('h2', { class: 'nhsuk-card__heading nhsuk-heading-m' }, title), body));
}

/**
 * Runs a search for a page's results area: says `what` is under way, then gives the Bundle;
 * on a failure, shows the FHIR URL it called and the error there instead, and gives undefined.
 */
export async function searchInto(results: HTMLElement, url: string, what: string): Promise<Bundle | undefined> {
  replace(results, loading(what));
  try {
    return await api().search(url);
  } catch (err) {
    replace(results, copyBlock('FHIR URL', url, { 'data-fhir-url': '' }), errorBox(err));
    return undefined;
  }
}
