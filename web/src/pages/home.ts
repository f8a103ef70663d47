import { capability } from '../capability.js';
import { card, errorBox, heading, summaryList, table } from '../components.js';
import { api, config, signedIn } from '../config.js';
import { h, replace } from '../dom.js';
import type { Bundle } from '../fhir-types.js';
import type { Page } from '../router.js';

/** Types worth counting besides those with a Care Connect profile: the data set uses them too. */
const ALSO_COUNTED = ['EpisodeOfCare', 'DiagnosticReport', 'DocumentReference', 'Composition', 'Flag', 'StructureDefinition', 'ValueSet', 'CodeSystem'];

export const home: Page = {
  title: () => 'Home',
  async render({ main }) {
    const counts = h('div', { id: 'type-counts' }, h('p', { class: 'nhsuk-body', role: 'status' }, 'Counting resources…'));
    replace(main, 
      heading('Care Connect explorer'),
      h(
        'p',
        { class: 'nhsuk-lede-text' },
        'A FHIR STU3 server with the NHS Care Connect profiles and synthetic data for an acute trust and the GP practices around it. Look at the records as a clinician would, and at the API as a developer uses it.',
      ),
      h(
        'div',
        { class: 'nhsuk-inset-text' },
        h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '),
        h('p', null, 'Start with the demo patient from the Care Connect API documentation: ', h('a', { href: '/patients?nhs=9876543210' }, 'Bernie Kanfeld, NHS number 987 654 3210'), '.'),
      ),
      summaryList(
        [
          ['Open API base', h('code', { class: 'ccri-break', 'data-base': 'open' }, config.openBase)],
          ['Secure API base', config.secureBase ? h('code', { class: 'ccri-break', 'data-base': 'secure' }, config.secureBase) : 'Not served'],
          [
            'The explorer calls',
            signedIn()
              ? h('span', { 'data-calling': 'secure' }, 'The secure base, with your access token')
              : h('span', { 'data-calling': 'open' }, config.openBase === config.secureBase ? 'The secure base, without a token until you sign in' : 'The open base', config.signIn?.available ? [' (', h('a', { href: '/sign-in' }, 'sign in'), ' to use the secure base)'] : null),
          ],
          ['FHIR version', 'STU3 (3.0.2)'],
        ],
        { id: 'bases' },
      ),
      h(
        'ul',
        { class: 'nhsuk-grid-row nhsuk-card-group' },
        quickLink('/patients', 'Find a patient', 'Search by name, NHS number, date of birth or postcode, and open a patient record.'),
        quickLink('/browse', 'Browse resources', 'Search any resource type with the parameters the server supports, and see the FHIR call it makes.'),
        quickLink('/profiles', 'Care Connect profiles', 'Each profile as a tree of elements, with bindings, slices and extensions.'),
        quickLink('/api', 'API documentation', 'The OpenAPI description of both bases, with requests you can try here.'),
        quickLink(`${config.openBase}/metadata`, 'CapabilityStatement', 'What this server supports, as FHIR says it.', true),
        quickLink('/validate', 'Validate a resource', 'Check JSON or XML against a Care Connect profile.'),
      ),
      h('h2', { class: 'nhsuk-heading-m' }, 'What the server holds'),
      counts,
    );
    try {
      replace(counts, await countsTable());
    } catch (err) {
      replace(counts, errorBox(err, 'The counts could not be read'));
    }
  },
};

function quickLink(href: string, title: string, text: string, external = false): HTMLElement {
  return h(
    'li',
    { class: 'nhsuk-grid-column-one-third nhsuk-card-group__item' },
    h(
      'div',
      { class: 'nhsuk-card nhsuk-card--clickable' },
      h('div', { class: 'nhsuk-card__content' }, h('h2', { class: 'nhsuk-card__heading nhsuk-heading-s' }, h('a', { class: 'nhsuk-card__link', href, ...(external ? { 'data-external': true } : {}) }, title)), h('p', { class: 'nhsuk-card__description' }, text)),
    ),
  );
}

/** One `_summary=count` search per type, in parallel: the counts are live, read through the API like anything else. */
async function countsTable(): Promise<HTMLElement> {
  const cs = await capability();
  const resources = cs.rest?.[0]?.resource ?? [];
  const types = new Set(resources.filter((r) => r.profile?.reference).map((r) => r.type));
  for (const t of ALSO_COUNTED) if (resources.some((r) => r.type === t)) types.add(t);
  const sorted = [...types].sort();
  const totals = await Promise.all(sorted.map((t) => api().search(t, { _summary: 'count' }).then((b: Bundle) => b.total ?? 0)));
  const profileOf = new Map(resources.map((r) => [r.type, r.profile?.reference]));
  return table(
    'Resources by type',
    ['Type', 'Count', 'Profile'],
    sorted.map((t, i) => [
      h('a', { href: `/browse/${t}` }, t),
      h('span', { 'data-count': t }, totals[i]!.toLocaleString('en-GB')),
      profileOf.get(t) ? h('span', { class: 'nhsuk-body-s ccri-break' }, profileOf.get(t)!.split('/').pop()!) : h('span', { class: 'nhsuk-body-s' }, 'STU3 base'),
    ]),
  );
}
