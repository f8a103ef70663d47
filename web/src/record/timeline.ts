import { h } from '../dom.js';
import type { CodeableConcept, Coding, Reference, Resource, Fields } from '../fhir-types.js';
import { conceptText, formatDate, referenceText } from '../format.js';

type R = Resource & Fields;

/** Encounters, newest first, as a vertical timeline. */
export function encounterTimeline(encounters: Resource[]): HTMLElement {
  if (!encounters.length) return h('p', { class: 'nhsuk-body' }, 'No encounters recorded.');
  const start = (e: R) => (e.period as { start?: string } | undefined)?.start ?? '';
  const sorted = [...encounters].sort((a: R, b: R) => start(b).localeCompare(start(a)));
  return h(
    'ol',
    { class: 'ccri-timeline', id: 'encounter-timeline' },
    sorted.map((e: R) => {
      const period = e.period as { start?: string; end?: string } | undefined;
      const kind = conceptText((e.type as CodeableConcept[] | undefined)?.[0]) || (e.class as Coding | undefined)?.display || (e.class as Coding | undefined)?.code || 'Encounter';
      const reason = ((e.reason as CodeableConcept[] | undefined) ?? []).map(conceptText).filter(Boolean).join(', ');
      const where = referenceText((e.serviceProvider as Reference | undefined) ?? (e.location as Array<{ location?: Reference }> | undefined)?.[0]?.location);
      return h(
        'li',
        { class: 'ccri-timeline__item' },
        h('p', { class: 'ccri-timeline__date nhsuk-body-s' }, period?.start ? h('time', { datetime: period.start }, formatDate(period.start)) : 'Date not recorded', period?.end && period.end.slice(0, 10) !== period.start?.slice(0, 10) ? ` to ${formatDate(period.end)}` : ''),
        h('p', { class: 'ccri-timeline__title' }, h('a', { href: `/resources/Encounter/${e.id}` }, kind.charAt(0).toUpperCase() + kind.slice(1)), e.status ? h('span', { class: 'ccri-muted' }, ` (${e.status})`) : null),
        reason || where ? h('p', { class: 'nhsuk-body-s ccri-timeline__detail' }, [reason, where].filter(Boolean).join(' · ')) : null,
      );
    }),
  );
}
