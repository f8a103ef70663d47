import { ApiError } from '../api.js';
import { errorBox, table } from '../components.js';
import { h, replace } from '../dom.js';
import type { CodeableConcept, HumanName, Quantity, Resource, Fields } from '../fhir-types.js';
import { conceptText, formatDate, humanName, quantityText } from '../format.js';
import { patientBanner } from '../record/banner.js';
import { flagsCallout, summaryCards } from '../record/cards.js';
import { vitalCharts } from '../record/charts.js';
import { loadRecord } from '../record/load.js';
import { encounterTimeline } from '../record/timeline.js';
import { vitalSeries } from '../record/vitals.js';
import type { Page } from '../router.js';

export const patientRecord: Page = {
  title: () => 'Patient record',
  async render({ main, params }) {
    let data;
    try {
      data = await loadRecord(params.id!);
    } catch (err) {
      // A deleted record's earlier versions are still there to see.
      const gone = err instanceof ApiError && err.status === 410;
      replace(
        main,
        h('h1', { class: 'nhsuk-heading-l', tabindex: '-1' }, 'Patient record'),
        errorBox(err, gone ? 'This patient’s record was deleted' : undefined),
        gone ? h('p', { class: 'nhsuk-body' }, h('a', { href: `/resources/Patient/${encodeURIComponent(params.id!)}?view=history`, id: 'deleted-history' }, 'See the versions of this patient before it was deleted')) : null,
      );
      return;
    }
    const { patient, byType, observations } = data;
    document.title = `${humanName((patient as { name?: HumanName[] }).name) || `Patient ${patient.id}`} - Patient record - Care Connect explorer`;
    replace(main, 
      h('nav', { class: 'nhsuk-breadcrumb', 'aria-label': 'Breadcrumb' }, h('ol', { class: 'nhsuk-breadcrumb__list' }, h('li', { class: 'nhsuk-breadcrumb__list-item' }, h('a', { class: 'nhsuk-breadcrumb__link', href: '/patients' }, 'Find a patient')))),
      patientBanner(patient, byType),
      h('p', { class: 'nhsuk-body-s ccri-record-links' }, h('a', { href: `/resources/Patient/${patient.id}` }, 'Patient resource'), ' · ', h('a', { href: `/browse/Observation?patient=${patient.id}` }, 'Search this patient’s observations')),
      flagsCallout(byType.get('Flag') ?? []),
      summaryCards(byType),
      h('h2', { class: 'nhsuk-heading-m' }, 'Encounters'),
      encounterTimeline(byType.get('Encounter') ?? []),
      h('h2', { class: 'nhsuk-heading-m' }, 'Vital signs'),
      vitalCharts(vitalSeries(observations)),
      h('h2', { class: 'nhsuk-heading-m' }, `Observations (${observations.length}${data.moreObservations ? '+' : ''})`),
      observations.length ? observationTable(observations) : h('p', { class: 'nhsuk-body' }, 'No observations recorded.'),
      data.moreObservations ? h('p', { class: 'nhsuk-body-s' }, 'Only the most recent observations are shown. ', h('a', { href: `/browse/Observation?patient=${patient.id}&_sort=-date` }, 'Browse all of them')) : null,
      h(
        'details',
        { class: 'nhsuk-details' },
        h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, `The ${data.calls.length} API calls behind this page`)),
        h('div', { class: 'nhsuk-details__text' }, h('ol', { class: 'nhsuk-list nhsuk-list--number' }, data.calls.map((c) => h('li', null, h('code', { class: 'ccri-break' }, c))))),
      ),
    );
  },
};

function observationTable(observations: Resource[]): HTMLElement {
  return table(
    'Observations, newest first',
    ['Date', 'Observation', 'Value', 'Status'],
    (observations as Fields[]).map((o) => [
      h('span', { class: 'ccri-nowrap' }, formatDate(o.effectiveDateTime ?? (o.effectivePeriod as { start?: string } | undefined)?.start ?? o.issued)),
      h('a', { href: `/resources/Observation/${o.id}`, 'data-observation': o.id }, conceptText(o.code) || `Observation ${o.id}`),
      value(o),
      o.status ?? '',
    ]),
    { captionHidden: true, id: 'observation-table' },
  );
}

function value(o: Fields): string {
  if (o.valueQuantity) return quantityText(o.valueQuantity);
  if (o.valueCodeableConcept) return conceptText(o.valueCodeableConcept);
  if (typeof o.valueString === 'string') return o.valueString;
  const comps = (o.component as Array<{ code?: CodeableConcept; valueQuantity?: Quantity }> | undefined) ?? [];
  if (comps.length) return comps.map((c) => quantityText(c.valueQuantity)).filter(Boolean).join(' / ').replace(/ mmHg \/ /, '/');
  return '';
}
