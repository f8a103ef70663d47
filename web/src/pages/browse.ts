import { capability } from '../capability.js';
import { copyBlock, errorBox, heading, pagination, searchInto, table } from '../components.js';
import { api, signedIn } from '../config.js';
import { h, replace } from '../dom.js';
import { button, field, input } from '../forms.js';
import { describe, formatDate } from '../format.js';
import type { Page, PageContext } from '../router.js';

/** The parameters the Care Connect API documentation marks as the ones to support, shown first. */
const FIRST: Record<string, string[]> = {
  Patient: ['family', 'given', 'name', 'identifier', 'birthdate', 'gender', 'address-postalcode'],
  Practitioner: ['name', 'identifier', 'address-postalcode'],
  PractitionerRole: ['organization', 'practitioner', 'identifier'],
  Organization: ['name', 'identifier', 'address-postalcode'],
  Location: ['name', 'identifier', 'address-postalcode'],
  Observation: ['patient', 'category', 'code', 'date'],
  Encounter: ['patient', 'date', 'identifier'],
  Condition: ['patient', 'category', 'clinical-status', 'asserted-date'],
  Procedure: ['patient', 'date'],
  AllergyIntolerance: ['patient', 'clinical-status', 'date'],
  MedicationRequest: ['patient', 'medication', 'status', 'authoredon', 'code'],
  MedicationStatement: ['patient', 'effective', 'status'],
  Immunization: ['patient', 'date', 'status'],
  Medication: ['code'],
  StructureDefinition: ['url', 'name', 'type'],
  ValueSet: ['url', 'name'],
  CodeSystem: ['url', 'name'],
};
const DEFAULT_FIRST = ['_id', 'patient', 'subject', 'identifier', 'name', 'code', 'date', 'status'];
/** Explorer-only query keys: everything else in the page's address is passed to the API as it is. */
const OWN = new Set(['page']);

export const browse: Page = {
  title: ({ params }) => `${params.type} search`,
  async render(ctx) {
    const { main, params, query } = ctx;
    const type = params.type!;
    const cs = await capability();
    const resource = cs.rest?.[0]?.resource?.find((r) => r.type === type);
    if (!resource) {
      replace(main, heading(`${type}`), errorBox(new Error(`The CapabilityStatement declares no resource type called ${type}.`)));
      return;
    }
    const searchParams = [...(resource.searchParam ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    const first = (FIRST[type] ?? DEFAULT_FIRST).filter((n) => searchParams.some((p) => p.name === n));
    const firstParams = first.map((n) => searchParams.find((p) => p.name === n)!);
    const others = searchParams.filter((p) => !first.includes(p.name));
    const fieldFor = (p: { name: string; type?: string; documentation?: string }) =>
      h('div', { class: 'ccri-param' }, field(`p-${p.name}`, p.name, input(`p-${p.name}`, query.get(p.name) ?? '', { name: p.name, autocomplete: 'off', spellcheck: 'false' }), `${p.type ?? ''}${paramText(p.documentation, type) ? `: ${paramText(p.documentation, type)}` : ''}`));
    const openMore = others.some((p) => query.has(p.name));
    const form = h(
      'form',
      { id: 'browse-form', novalidate: true, 'aria-label': `${type} search` },
      h('div', { class: 'ccri-params' }, firstParams.map(fieldFor)),
      others.length ? h('details', { class: 'nhsuk-details', open: openMore }, h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, `More search parameters (${others.length})`)), h('div', { class: 'nhsuk-details__text ccri-params' }, others.map(fieldFor))) : null,
      h('div', { class: 'ccri-params' }, field('p-_count', '_count', input('p-_count', query.get('_count') ?? '10', { name: '_count', inputmode: 'numeric', class: 'nhsuk-input nhsuk-input--width-4' }), 'results a page'), field('p-_sort', '_sort', input('p-_sort', query.get('_sort') ?? '', { name: '_sort', class: 'nhsuk-input nhsuk-input--width-10' }), 'e.g. -_lastUpdated')),
      button('Search'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const next = new URLSearchParams();
      for (const el of form.querySelectorAll<HTMLInputElement>('input[name]')) if (el.value.trim()) next.append(el.name, el.value.trim());
      ctx.go(`/browse/${type}?${next}`);
    });
    const results = h('div', { id: 'browse-results' });
    replace(main, 
      h('nav', { class: 'nhsuk-breadcrumb', 'aria-label': 'Breadcrumb' }, h('ol', { class: 'nhsuk-breadcrumb__list' }, h('li', { class: 'nhsuk-breadcrumb__list-item' }, h('a', { class: 'nhsuk-breadcrumb__link', href: '/browse' }, 'Resource types')))),
      heading(type, 'Search'),
      resource.profile?.reference ? h('p', { class: 'nhsuk-body-s' }, 'Profile: ', h('code', { class: 'ccri-break' }, resource.profile.reference)) : null,
      form,
      results,
    );
    await showResults(ctx, type, results);
  },
};

async function showResults(ctx: PageContext, type: string, results: HTMLElement): Promise<void> {
  const { query } = ctx;
  const page = query.get('page');
  const url = page && api().owns(page) ? page : api().url(type, [...query].filter(([k, v]) => !OWN.has(k) && v !== ''));
  const bundle = await searchInto(results, url, 'Searching');
  if (!bundle) return;
  const warnings = (bundle.entry ?? []).filter((e) => e.search?.mode === 'outcome').flatMap((e) => ((e.resource as { issue?: Array<{ diagnostics?: string; details?: { text?: string } }> })?.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? ''));
  const entries = (bundle.entry ?? []).filter((e) => e.resource && e.search?.mode !== 'outcome');
  replace(results, 
    copyBlock('FHIR URL', url, { 'data-fhir-url': '' }),
    // Signed in, the command names the token as $TOKEN rather than printing it in the page.
    copyBlock('curl command', `curl -H 'Accept: application/fhir+json'${signedIn() ? ' -H "Authorization: Bearer $TOKEN"' : ''} '${url.replace(/'/g, "'\\''")}'`),
    warnings.length ? h('div', { class: 'nhsuk-inset-text' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '), h('p', null, 'The server said: ', warnings.join(' '))) : null,
    h('h2', { class: 'nhsuk-heading-m', id: 'browse-total' }, bundle.total === undefined ? `${entries.length} shown` : `${bundle.total.toLocaleString('en-GB')} found`),
    entries.length
      ? table(
          `${type} results`,
          ['Resource', 'Summary', 'Last updated', 'Included as'],
          entries.map((e) => {
            const r = e.resource!;
            return [h('a', { href: `/resources/${r.resourceType}/${r.id}`, 'data-entry': `${r.resourceType}/${r.id}` }, `${r.resourceType}/${r.id}`), describe(r), h('span', { class: 'ccri-nowrap' }, formatDate(r.meta?.lastUpdated)), e.search?.mode ?? ''];
          }),
          { captionHidden: true, id: 'browse-table' },
        )
      : h('p', { class: 'nhsuk-body' }, 'Nothing matches.'),
    pagination(bundle, (next) => `/browse/${type}?${new URLSearchParams([...[...query].filter(([k]) => !OWN.has(k)), ['page', next]])}`),
  );
}

/**
 * A parameter's description for one type. The STU3 definitions share one text
 * among many types ("Multiple Resources: * [Patient](patient.html): …"); the
 * line for this type is the one that helps.
 */
export function paramText(documentation: string | undefined, type: string): string {
  const text = (documentation ?? '').split('. Modifiers')[0]!.trim();
  if (!text.startsWith('Multiple Resources')) return text;
  const line = text.split(/\r?\n/).find((l) => l.includes(`[${type}]`));
  return line ? line.replace(/^\s*\*\s*\[[^\]]*\]\([^)]*\):\s*/, '').trim() : '';
}
