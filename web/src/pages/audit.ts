import { auditRow, auditSearch, filtersFrom, filtersQuery, typeAndId, type AuditEventResource, type AuditFilters, type AuditRow } from '../audit-query.js';
import { copyBlock, errorBox, heading, pagination, searchInto, tag } from '../components.js';
import { api, config, signedIn } from '../config.js';
import { h, replace, type Child } from '../dom.js';
import type { HumanName, Resource } from '../fhir-types.js';
import { button, field, input, select } from '../forms.js';
import { humanName } from '../format.js';
import { formatNhsNumber } from '../nhs-number.js';
import type { Page, PageContext } from '../router.js';
import { canReadAudit, currentSession } from '../session.js';
import { EXPLORER_CLIENT_ID, EXPLORER_CLIENT_NAME } from '../../../src/ui/sign-in.js';

const PAGE_SIZE = 20;

/**
 * The audit view: who accessed which patient, and when. Built only from `AuditEvent`
 * searches on the secure base with the signed-in user's token (which must name the audit
 * scope), paged through the Bundle's own links. Patients are shown by id and NHS number, as
 * the events name them: looking their names up would itself be an access to their records.
 */
export const auditPage: Page = {
  title: () => 'Audit trail',
  async render(ctx) {
    const { main, query } = ctx;
    const session = currentSession();
    const head = heading('Audit trail', 'Who accessed which record');
    if (!session || !signedIn()) {
      replace(main, head, notice('The audit trail is served only on the secure API, to a user whose sign-in includes the audit scope.', h('a', { href: `/sign-in?return=${encodeURIComponent('/audit')}` }, 'Sign in'), ' and keep “Also read the audit trail” ticked.'));
      return;
    }
    if (!canReadAudit(session)) {
      replace(main, head, notice('Your sign-in does not include the audit scope (user/AuditEvent.read, or patient/AuditEvent.read for one patient): no wildcard scope covers the audit trail.', h('a', { href: `/sign-in?return=${encodeURIComponent('/audit')}` }, 'Sign in again'), ' with “Also read the audit trail” ticked.'));
      return;
    }
    const filters = filtersFrom(query);
    const results = h('div', { id: 'audit-results' });
    replace(
      main,
      head,
      h(
        'p',
        { class: 'nhsuk-body' },
        session.kind === 'patient'
          ? 'Every request that touched your record (or the record you chose), newest first, as the server recorded it.'
          : 'Every request to the API leaves an AuditEvent: who asked, for what, whose records it touched, and whether it was allowed. Newest first.',
      ),
      filterForm(ctx, filters, session.kind === 'patient'),
      results,
    );
    await showEvents(ctx, filters, results);
  },
};

function notice(text: string, ...action: Child[]): HTMLElement {
  return h('div', { class: 'nhsuk-inset-text', id: 'audit-unavailable' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '), h('p', null, text), h('p', null, ...action));
}

function filterForm(ctx: PageContext, f: AuditFilters, onePatient: boolean): HTMLElement {
  const col = (width: 'quarter' | 'half', child: HTMLElement) => h('div', { class: `nhsuk-grid-column-one-${width}` }, child);
  const form = h(
    'form',
    { id: 'audit-filters', novalidate: true, role: 'search', 'aria-label': 'Filter the audit trail' },
    h(
      'div',
      { class: 'nhsuk-grid-row' },
      onePatient ? null : col('quarter', field('patient', 'Patient', input('patient', f.patient, { autocomplete: 'off', spellcheck: 'false' }), 'NHS number or patient id')),
      col('quarter', field('user', 'User', input('user', f.user, { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' }), 'User name, e.g. clinician')),
      col('quarter', field('from', 'From', input('from', f.from, { type: 'date' }), 'First day, included')),
      col('quarter', field('to', 'To', input('to', f.to, { type: 'date' }), 'Last day, included')),
    ),
    h(
      'div',
      { class: 'nhsuk-grid-row' },
      col('quarter', field('outcome', 'Outcome', select('outcome', [['', 'Any'], ['success', 'Allowed'], ['failure', 'Refused or failed']], f.outcome))),
      col('half', field('events', 'Events', select('events', [['patients', 'Access to patient records'], ['all', 'Every event (sign-ins too)']], f.events))),
    ),
    button('Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = (name: string) => ((form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null)?.value ?? '').trim();
    const next = filtersFrom(new URLSearchParams([['patient', value('patient')], ['user', value('user')], ['from', value('from')], ['to', value('to')], ['outcome', value('outcome')], ['events', value('events')]]));
    const q = filtersQuery(next).toString();
    ctx.go(q ? `/audit?${q}` : '/audit');
  });
  return form;
}

async function showEvents(ctx: PageContext, f: AuditFilters, results: HTMLElement): Promise<void> {
  const page = ctx.query.get('page');
  let url: string;
  if (page && api().owns(page)) {
    url = page;
  } else {
    const search = auditSearch(f, PAGE_SIZE);
    if ('error' in search) {
      replace(results, errorBox(new Error(search.error)));
      return;
    }
    url = api().url('AuditEvent', search.params);
  }
  const bundle = await searchInto(results, url, 'Reading the audit trail');
  if (!bundle) return;
  const events = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'AuditEvent' && e.search?.mode !== 'include').map((e) => auditRow(e.resource as AuditEventResource));
  // The users' Practitioner or Patient resources, included by the same search: their names.
  const names = new Map<string, string>();
  for (const e of bundle.entry ?? []) {
    const r = e.resource as (Resource & { name?: HumanName[] }) | undefined;
    if (r && e.search?.mode === 'include' && r.id) names.set(`${r.resourceType}/${r.id}`, humanName(r.name));
  }
  const own = filtersQuery(f);
  replace(
    results,
    copyBlock('FHIR URL', url, { 'data-fhir-url': '' }),
    h('h2', { class: 'nhsuk-heading-m', id: 'audit-total' }, bundle.total === undefined ? `${events.length} events shown` : `${bundle.total.toLocaleString('en-GB')} ${bundle.total === 1 ? 'event' : 'events'}`),
    events.length ? eventTable(events, names) : h('p', { class: 'nhsuk-body', id: 'audit-empty' }, 'No event matches.'),
    pagination(bundle, (next) => `/audit?${new URLSearchParams([...own, ['page', next]])}`),
  );
}

const HEADERS = ['When (UTC)', 'Who', 'Patient', 'What', 'Outcome'];

/** The design system's responsive table: at a phone's width each event is a block, each cell with its heading. */
function eventTable(events: AuditRow[], names: Map<string, string>): HTMLElement {
  return h(
    'div',
    { class: 'ccri-table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Audit events' },
    h(
      'table',
      { class: 'nhsuk-table nhsuk-table--responsive', id: 'audit-table', role: 'table' },
      h('caption', { class: 'nhsuk-u-visually-hidden' }, 'Audit events, newest first'),
      h('thead', { class: 'nhsuk-table__head', role: 'rowgroup' }, h('tr', { class: 'nhsuk-table__row', role: 'row' }, HEADERS.map((x) => h('th', { scope: 'col', class: 'nhsuk-table__header', role: 'columnheader' }, x)))),
      h(
        'tbody',
        { class: 'nhsuk-table__body' },
        events.map((r) =>
          h(
            'tr',
            { class: 'nhsuk-table__row', role: 'row', 'data-event': r.id },
            [when(r), who(r, names), patientsCell(r), what(r), outcomeCell(r)].map((cell, i) => h('td', { class: 'nhsuk-table__cell', role: 'cell' }, h('span', { class: 'nhsuk-table-responsive__heading', 'aria-hidden': 'true' }, `${HEADERS[i]} `), cell)),
          ),
        ),
      ),
    ),
  );
}

const timeFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'UTC' });

function when(r: AuditRow): Child {
  const d = new Date(r.recorded);
  return h('time', { datetime: r.recorded, class: 'ccri-nowrap' }, Number.isNaN(d.getTime()) ? r.recorded : timeFormat.format(d));
}

function who(r: AuditRow, names: Map<string, string>): Child {
  if (!r.user) return h('span', { 'data-user': '' }, 'Anonymous', h('span', { class: 'ccri-block nhsuk-body-s' }, sourceName(r.source)));
  const key = typeAndId(r.userReference);
  const name = key ? names.get(key) : undefined;
  return h(
    'span',
    { 'data-user': r.user },
    name ? h('strong', { class: 'ccri-block', 'data-user-name': '' }, name) : null,
    h('span', { class: 'ccri-block nhsuk-body-s' }, name ? `user ${r.user}` : r.user),
    r.client ? h('span', { class: 'ccri-block nhsuk-body-s' }, `via ${r.client === EXPLORER_CLIENT_ID ? EXPLORER_CLIENT_NAME : r.client}`) : null,
  );
}

function sourceName(source: string | undefined): string {
  if (!source) return '';
  if (source === config.openBase) return 'open API';
  if (source === config.secureBase) return 'secure API';
  return source;
}

const SHOWN = 3;

function patientsCell(r: AuditRow): Child {
  if (!r.patients.length) return h('span', { class: 'nhsuk-body-s' }, '—');
  const shown = r.patients.slice(0, SHOWN);
  return h(
    'ul',
    { class: 'nhsuk-list nhsuk-u-margin-bottom-0 ccri-audit-list' },
    shown.map((p) => h('li', null, h('a', { href: `/patients/${encodeURIComponent(p.id)}`, 'data-audit-patient': p.id, class: 'ccri-nowrap' }, p.nhsNumber ? formatNhsNumber(p.nhsNumber) : `Patient/${p.id}`), p.nhsNumber ? h('span', { class: 'ccri-block nhsuk-body-s' }, `Patient/${p.id}`) : null)),
    r.patients.length > SHOWN ? h('li', { class: 'nhsuk-body-s' }, `and ${r.patients.length - SHOWN} more`) : null,
  );
}

const INTERACTIONS: Record<string, string> = {
  read: 'Read',
  vread: 'Read a version',
  'search-type': 'Search',
  'search-system': 'Search',
  'history-instance': 'History',
  'history-type': 'History',
  'history-system': 'History',
  operation: 'Operation',
  create: 'Create',
  update: 'Update',
  delete: 'Delete',
  transaction: 'Transaction',
  batch: 'Batch',
  capabilities: 'CapabilityStatement',
  'sign-in': 'Sign-in',
  'token-issued': 'Access token issued',
  'token-refused': 'Access token refused',
  'client-registered': 'App registered',
};

function what(r: AuditRow): Child {
  const shown = r.resources.slice(0, SHOWN);
  return h(
    'span',
    { 'data-interaction': r.interaction },
    h('strong', { class: 'ccri-block' }, INTERACTIONS[r.interaction] ?? r.interaction),
    r.query ? h('code', { class: 'ccri-block ccri-break nhsuk-body-s' }, r.query) : null,
    shown.length
      ? h(
          'span',
          { class: 'ccri-block nhsuk-body-s' },
          shown.map((ref, i) => [i ? ', ' : '', h('a', { href: `/resources/${ref}` }, ref)]),
          r.resources.length > SHOWN ? ` and ${r.resources.length - SHOWN} more` : '',
        )
      : null,
  );
}

function outcomeCell(r: AuditRow): Child {
  const label = { success: tag('Allowed', 'green'), refused: tag('Refused', 'orange'), failed: tag('Failed', 'red') }[r.outcome];
  return h('span', { 'data-outcome': r.outcome }, label, r.outcomeText ? h('span', { class: 'ccri-block nhsuk-body-s' }, r.outcomeText) : null);
}
