import { errorBox, heading, loading, pagination, table } from '../components.js';
import { api } from '../config.js';
import { h, replace } from '../dom.js';
import type { Bundle, Identifier, Resource, Fields } from '../fhir-types.js';
import { button, field, input } from '../forms.js';
import { formatDate, humanName } from '../format.js';
import { checkNhsNumber, formatNhsNumber, NHS_NUMBER_SYSTEM, nhsDigits } from '../nhs-number.js';
import type { Page, PageContext } from '../router.js';

const FIELDS = ['name', 'nhs', 'birthdate', 'postcode'] as const;

export const patientSearch: Page = {
  title: () => 'Find a patient',
  async render(ctx) {
    const { main, query } = ctx;
    const nhsMessage = h('span', { id: 'nhs-message', class: 'ccri-live-check', 'aria-live': 'polite' });
    const nhs = input('nhs', formatNhsNumber(query.get('nhs') ?? ''), { inputmode: 'numeric', spellcheck: 'false', autocomplete: 'off', class: 'nhsuk-input nhsuk-input--width-10 nhsuk-input--code' });
    const nhsGroup = field('nhs', 'NHS number', nhs, '10 digits, like 943 476 5919', nhsMessage);
    const showCheck = () => showNhsCheck(nhs, nhsMessage, nhsGroup);
    nhs.addEventListener('input', () => {
      // Regroup as 3-3-4 while typing, keeping the caret after the same digit.
      const digitsBefore = nhsDigits(nhs.value.slice(0, nhs.selectionStart ?? nhs.value.length)).length;
      nhs.value = formatNhsNumber(nhs.value);
      let pos = 0;
      for (let seen = 0; pos < nhs.value.length && seen < digitsBefore; pos++) if (/\d/.test(nhs.value[pos]!)) seen++;
      nhs.setSelectionRange(pos, pos);
      showCheck();
    });
    showCheck();

    const results = h('div', { id: 'results' });
    const form = h(
      'form',
      { id: 'patient-search', novalidate: true, role: 'search', 'aria-label': 'Patient search' },
      h(
        'div',
        { class: 'nhsuk-grid-row' },
        h('div', { class: 'nhsuk-grid-column-one-half' }, field('name', 'Name', input('name', query.get('name') ?? '', { autocomplete: 'off', spellcheck: 'false' }), 'Any part of a family or given name, e.g. kanfeld')),
        h('div', { class: 'nhsuk-grid-column-one-half' }, nhsGroup),
      ),
      h(
        'div',
        { class: 'nhsuk-grid-row' },
        h('div', { class: 'nhsuk-grid-column-one-half' }, field('birthdate', 'Date of birth', input('birthdate', query.get('birthdate') ?? '', { type: 'date', class: 'nhsuk-input nhsuk-input--width-10' }))),
        h('div', { class: 'nhsuk-grid-column-one-half' }, field('postcode', 'Postcode', input('postcode', query.get('postcode') ?? '', { class: 'nhsuk-input nhsuk-input--width-10', autocomplete: 'off' }), 'The start is enough, e.g. NG10')),
      ),
      button('Search'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const params = new URLSearchParams();
      for (const f of FIELDS) {
        const v = (form.elements.namedItem(f) as HTMLInputElement).value.trim();
        if (v) params.set(f, f === 'nhs' ? nhsDigits(v) : v);
      }
      ctx.go(`/patients?${params}`);
    });
    replace(main, heading('Find a patient'), form, results);
    if (FIELDS.some((f) => query.get(f)) || query.get('page')) await showResults(ctx, results);
  },
};

function showNhsCheck(nhs: HTMLInputElement, message: HTMLElement, group: HTMLElement): void {
  const state = checkNhsNumber(nhs.value);
  const bad = state === 'invalid' || state === 'too-long';
  group.classList.toggle('nhsuk-form-group--error', bad);
  nhs.classList.toggle('nhsuk-input--error', bad);
  nhs.setAttribute('aria-invalid', String(bad));
  message.className = bad ? 'nhsuk-error-message ccri-live-check' : 'nhsuk-hint ccri-live-check';
  message.dataset.state = state;
  message.textContent = {
    empty: '',
    incomplete: `${nhsDigits(nhs.value).length} of 10 digits`,
    'too-long': 'An NHS number has 10 digits',
    valid: '✓ Valid NHS number (Modulus 11 check digit matches)',
    invalid: 'Not a valid NHS number: the check digit does not match',
  }[state];
}

async function showResults(ctx: PageContext, results: HTMLElement): Promise<void> {
  const { query } = ctx;
  const nhs = query.get('nhs') ?? '';
  if (nhs && checkNhsNumber(nhs) !== 'valid') {
    replace(results, errorBox(new Error(`${formatNhsNumber(nhs)} is not a valid NHS number, so no patient can have it. Check the digits.`)));
    return;
  }
  replace(results, loading('Searching'));
  try {
    const page = query.get('page');
    let bundle: Bundle;
    if (page && api().owns(page)) bundle = await api().search(page);
    else {
      bundle = await api().search('Patient', {
        name: query.get('name') ?? undefined,
        identifier: nhs ? `${NHS_NUMBER_SYSTEM}|${nhs}` : undefined,
        birthdate: query.get('birthdate') ?? undefined,
        'address-postalcode': query.get('postcode') ?? undefined,
        _sort: 'family,given',
        _count: '10',
      });
    }
    const patients = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r?.resourceType === 'Patient');
    const base = new URLSearchParams([...query].filter(([k]) => k !== 'page'));
    const total = bundle.total;
    replace(results, 
      h('h2', { class: 'nhsuk-heading-m', id: 'results-heading' }, total === undefined ? 'Results' : `${total.toLocaleString('en-GB')} ${total === 1 ? 'patient' : 'patients'} found`),
      patients.length
        ? table(
            'Patients matching the search',
            ['Name', 'NHS number', 'Date of birth', 'Gender', 'Postcode'],
            patients.map((p) => {
              const r = p as Fields;
              const nhsNumber = (r.identifier as Identifier[] | undefined)?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
              return [
                h('a', { href: `/patients/${p.id}`, 'data-patient': p.id ?? '' }, humanName(r.name) || `Patient ${p.id}`),
                nhsNumber ? h('span', { class: 'ccri-nowrap' }, formatNhsNumber(nhsNumber)) : '',
                formatDate(r.birthDate),
                r.gender ?? '',
                (r.address as Array<{ postalCode?: string }> | undefined)?.[0]?.postalCode ?? '',
              ];
            }),
            { captionHidden: true, id: 'patient-results' },
          )
        : h('p', { class: 'nhsuk-body' }, 'No patient matches. Try fewer details, or the start of a name.'),
      pagination(bundle, (url) => `/patients?${new URLSearchParams([...base, ['page', url]])}`),
    );
  } catch (err) {
    replace(results, errorBox(err));
  }
}
