import { tag } from '../components.js';
import { h, type Child } from '../dom.js';
import type { CodeableConcept, Reference, Resource, Fields } from '../fhir-types.js';
import { conceptText, formatDate, referenceText } from '../format.js';

type R = Resource & Fields;

interface Item {
  resource: Resource;
  title: string;
  detail?: string;
  when?: string;
  status?: string;
}

/** The four clinical summary cards, plus procedures and documents when the record has them. */
export function summaryCards(byType: Map<string, Resource[]>): HTMLElement {
  const get = (t: string) => byType.get(t) ?? [];
  const problems = get('Condition').map((c: R): Item => ({ resource: c, title: conceptText(c.code), status: conceptText(c.clinicalStatus) || c.clinicalStatus, when: c.onsetDateTime ?? c.assertedDate, detail: conceptText((c.category as CodeableConcept[] | undefined)?.[0]) }));
  const current = (s: string | undefined) => !s || s === 'active' || s === 'intended' || s === 'on-hold';
  const meds = [
    ...get('MedicationStatement').filter((m: R) => current(m.status)).map((m: R): Item => ({ resource: m, title: medication(m), detail: dosage(m.dosage), when: m.effectiveDateTime ?? (m.effectivePeriod as { start?: string } | undefined)?.start, status: m.status })),
    ...get('MedicationRequest').filter((m: R) => current(m.status)).map((m: R): Item => ({ resource: m, title: medication(m), detail: dosage(m.dosageInstruction), when: m.authoredOn, status: `prescribed (${m.status})` })),
  ];
  const allergies = get('AllergyIntolerance').map((a: R): Item => ({
    resource: a,
    title: conceptText(a.code),
    detail: ((a.reaction as Array<{ manifestation?: CodeableConcept[] }> | undefined) ?? []).flatMap((r) => (r.manifestation ?? []).map(conceptText)).join(', '),
    status: [a.criticality ? `criticality ${a.criticality}` : '', conceptText(a.clinicalStatus) || a.clinicalStatus].filter(Boolean).join(', '),
    when: a.assertedDate ?? a.onsetDateTime,
  }));
  const immunisations = get('Immunization').map((i: R): Item => ({ resource: i, title: conceptText(i.vaccineCode), when: i.date, status: i.notGiven ? 'not given' : i.status }));
  const procedures = get('Procedure').map((p: R): Item => ({ resource: p, title: conceptText(p.code), when: p.performedDateTime ?? (p.performedPeriod as { start?: string } | undefined)?.start, status: p.status }));
  const documents = [
    ...get('Composition').map((c: R): Item => ({ resource: c, title: c.title ?? conceptText(c.type), when: c.date, status: c.status })),
    ...get('DiagnosticReport').map((d: R): Item => ({ resource: d, title: conceptText(d.code), when: d.effectiveDateTime ?? d.issued, status: d.status })),
    ...get('DocumentReference').map((d: R): Item => ({ resource: d, title: d.description ?? conceptText(d.type), when: d.indexed ?? d.created, status: d.status })),
  ];
  const byDate = (a: Item, b: Item) => (b.when ?? '').localeCompare(a.when ?? '');
  return h(
    'div',
    { class: 'ccri-cards' },
    column(card('Problems', 'problems', problems.sort(byDate), 'No problems recorded')),
    column(card('Current medications', 'medications', meds.sort(byDate), 'No current medications')),
    column(card('Allergies', 'allergies', allergies, 'No known allergies recorded')),
    column(card('Immunisations', 'immunisations', immunisations.sort(byDate), 'No immunisations recorded')),
    procedures.length ? column(card('Procedures', 'procedures', procedures.sort(byDate), '')) : null,
    documents.length ? column(card('Documents and reports', 'documents', documents.sort(byDate), '')) : null,
  );
}

/** Flags ask to be seen first: a warning above everything else. */
export function flagsCallout(flags: Resource[]): HTMLElement | null {
  const active = flags.filter((f: R) => f.status !== 'inactive' && f.status !== 'entered-in-error');
  if (!active.length) return null;
  return h(
    'div',
    { class: 'nhsuk-warning-callout', id: 'flags' },
    h('h2', { class: 'nhsuk-warning-callout__label' }, h('span', { role: 'text' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '), 'Flags')),
    h('ul', { class: 'nhsuk-list' }, active.map((f: R) => h('li', null, h('a', { href: `/resources/Flag/${f.id}` }, conceptText(f.code) || `Flag ${f.id}`), f.period ? ` since ${formatDate((f.period as { start?: string }).start)}` : ''))),
  );
}

function column(child: HTMLElement): HTMLElement {
  return h('div', { class: 'ccri-card-column' }, child);
}

function card(title: string, id: string, items: Item[], empty: string): HTMLElement {
  const body: Child = items.length
    ? h(
        'ul',
        { class: 'nhsuk-list ccri-card-list' },
        items.map((i) =>
          h(
            'li',
            null,
            h('a', { href: `/resources/${i.resource.resourceType}/${i.resource.id}` }, i.title || `${i.resource.resourceType} ${i.resource.id}`),
            i.status ? [' ', tag(i.status, i.status.startsWith('active') || i.status === 'completed' ? 'green' : 'grey')] : null,
            i.detail || i.when ? h('span', { class: 'nhsuk-body-s ccri-card-detail' }, [i.detail, i.when ? formatDate(i.when) : ''].filter(Boolean).join(' · ')) : null,
          ),
        ),
      )
    : h('p', { class: 'nhsuk-body-s' }, empty);
  return h('div', { class: 'nhsuk-card', id: `card-${id}` }, h('div', { class: 'nhsuk-card__content' }, h('h2', { class: 'nhsuk-card__heading nhsuk-heading-s' }, `${title} (${items.length})`), body));
}

function medication(m: R): string {
  return conceptText(m.medicationCodeableConcept) || referenceText(m.medicationReference as Reference | undefined) || 'Medication';
}

function dosage(d: unknown): string {
  const list = d as Array<{ text?: string }> | undefined;
  return list?.map((x) => x.text).filter(Boolean).join('; ') ?? '';
}
