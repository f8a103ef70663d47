import { h } from '../dom.js';
import type { Identifier, Reference, Resource, Fields } from '../fhir-types.js';
import { addressText, ageInYears, formatDate, humanName } from '../format.js';
import { formatNhsNumber, NHS_NUMBER_SYSTEM } from '../nhs-number.js';

/**
 * The patient banner, as NHS clinical systems show it: the name in the form
 * FAMILY, Given (Title), then NHS number, date of birth with age, gender, GP
 * practice and address, each labelled.
 */
export function patientBanner(patient: Resource, included: Map<string, Resource[]>): HTMLElement {
  const p = patient as Fields;
  const nhs = (p.identifier as Identifier[] | undefined)?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  const age = ageInYears(p.birthDate, p.deceasedDateTime ? new Date(p.deceasedDateTime) : undefined);
  const gp = practice(p.generalPractitioner as Reference[] | undefined, included);
  const item = (label: string, value: string, attrs: Record<string, string> = {}) =>
    value ? h('div', { class: 'ccri-banner__item' }, h('dt', null, label), h('dd', attrs, value)) : null;
  return h(
    'section',
    { class: 'ccri-banner', 'aria-label': 'Patient details' },
    h('h1', { class: 'ccri-banner__name', tabindex: '-1' }, humanName(p.name, 'banner') || `Patient ${patient.id}`),
    h(
      'dl',
      { class: 'ccri-banner__details' },
      item('NHS number', nhs ? formatNhsNumber(nhs) : 'Not recorded', { 'data-nhs-number': nhs ?? '' }),
      item('Born', p.birthDate ? `${formatDate(p.birthDate)}${age !== undefined ? ` (${age} years)` : ''}` : 'Not recorded'),
      item('Gender', p.gender ? capitalise(p.gender) : 'Not recorded'),
      item('GP practice', gp),
      item('Address', addressText(p.address)),
      p.deceasedDateTime || p.deceasedBoolean ? item('Died', p.deceasedDateTime ? formatDate(p.deceasedDateTime) : 'Yes') : null,
    ),
  );
}

function practice(refs: Reference[] | undefined, included: Map<string, Resource[]>): string {
  const orgRef = refs?.find((r) => r.reference?.startsWith('Organization/'));
  if (!orgRef) return refs?.[0]?.display ?? '';
  const org = included.get('Organization')?.find((o) => `Organization/${o.id}` === orgRef.reference) as { name?: string; identifier?: Identifier[] } | undefined;
  const ods = org?.identifier?.find((i) => i.system?.includes('ods-organization-code'))?.value;
  const name = org?.name ?? orgRef.display ?? orgRef.reference ?? '';
  return ods ? `${name} (${ods})` : name;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
