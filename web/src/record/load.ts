import { api } from '../config.js';
import type { Bundle, Resource } from '../fhir-types.js';

/** What the patient's record is drawn from, grouped by type. */
export interface RecordData {
  patient: Resource;
  byType: Map<string, Resource[]>;
  observations: Resource[];
  /** True when the observations ran past the pages this page fetches. */
  moreObservations: boolean;
  calls: string[];
}

/** The resource types that point at the patient and have a card, list or timeline on the page. */
export const REVINCLUDED = ['Condition', 'AllergyIntolerance', 'Immunization', 'MedicationStatement', 'MedicationRequest', 'Encounter', 'Procedure', 'Flag', 'DiagnosticReport', 'DocumentReference', 'Composition'];
const OBSERVATION_PAGES = 5;

/**
 * The whole record in a handful of calls: the patient with its GP and
 * organisation (_include) and everything that names it (_revinclude) in one
 * search, then the observations, newest first, a hundred a page.
 * https://hl7.org/fhir/STU3/search.html#revinclude
 */
export async function loadRecord(id: string): Promise<RecordData> {
  const calls: string[] = [];
  const params: Array<[string, string]> = [
    ['_id', id],
    ['_include', 'Patient:general-practitioner'],
    ['_include', 'Patient:organization'],
    ...REVINCLUDED.map((t): [string, string] => ['_revinclude', `${t}:patient`]),
  ];
  const summaryUrl = api().url('Patient', params);
  const observationsUrl = api().url('Observation', { patient: id, _sort: '-date', _count: '100' });
  calls.push(summaryUrl, observationsUrl);
  const [summary, firstObs] = await Promise.all([api().search(summaryUrl), api().search(observationsUrl)]);

  const byType = new Map<string, Resource[]>();
  let patient: Resource | undefined;
  for (const e of summary.entry ?? []) {
    const r = e.resource;
    if (!r) continue;
    if (r.resourceType === 'Patient' && r.id === id && e.search?.mode !== 'include') patient = r;
    else byType.set(r.resourceType, [...(byType.get(r.resourceType) ?? []), r]);
  }
  if (!patient) {
    // A search does not find a deleted patient: a read says which it is (410 deleted, 404 never known), in the server's words.
    await api().json(`Patient/${encodeURIComponent(id)}`);
    throw new Error(`There is no patient with id ${id}.`);
  }

  const observations: Resource[] = [];
  let page: Bundle | undefined = firstObs;
  for (let n = 0; page; n++) {
    for (const e of page.entry ?? []) if (e.resource?.resourceType === 'Observation') observations.push(e.resource);
    const next: string | undefined = page.link?.find((l) => l.relation === 'next')?.url;
    if (!next || !api().owns(next) || n + 1 >= OBSERVATION_PAGES) {
      return { patient, byType, observations, moreObservations: Boolean(next), calls };
    }
    calls.push(next);
    page = await api().search(next);
  }
  return { patient, byType, observations, moreObservations: false, calls };
}
