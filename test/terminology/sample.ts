/**
 * A small SNOMED CT-shaped code system, written for the remote terminology tests: a few real
 * concept identifiers (valid SCTIDs) and their hierarchy, and value sets over it. A second
 * `ccri serve --definitions` holds them and answers as the terminology server.
 */

import { SNOMED as SCT } from '../../src/profiles/urls.js';

export { SCT };
/** A value set the remote server holds and the first server does not know. */
export const DIABETES_VS = 'http://example.org/fhir/ValueSet/test-diabetes';

export const CODES = {
  clinicalFinding: '404684003',
  disease: '64572001',
  diabetes: '73211009',
  type2: '44054006',
  type1: '46635009',
  hypertension: '38341003',
  asthma: '195967001',
  /** A well-formed SCTID (myocardial infarction) that the sample does not hold: unknown to the remote server. */
  notHeld: '22298006',
} as const;

const concept = (code: string, display: string, children: unknown[] = [], synonyms: string[] = []) => ({
  code,
  display,
  ...(synonyms.length ? { designation: synonyms.map((value) => ({ language: 'en', value })) } : {}),
  ...(children.length ? { concept: children } : {}),
});

export const SNOMED_SAMPLE = {
  resourceType: 'CodeSystem',
  url: SCT,
  name: 'SNOMEDCTSample',
  title: 'SNOMED CT (a test sample)',
  status: 'active',
  content: 'complete',
  caseSensitive: true,
  hierarchyMeaning: 'is-a',
  concept: [
    concept(CODES.clinicalFinding, 'Clinical finding', [
      concept(CODES.disease, 'Disease', [
        concept(CODES.diabetes, 'Diabetes mellitus', [concept(CODES.type2, 'Type 2 diabetes mellitus', [], ['Diabetes mellitus type 2']), concept(CODES.type1, 'Type 1 diabetes mellitus')]),
        concept(CODES.hypertension, 'Hypertensive disorder'),
        concept(CODES.asthma, 'Asthma'),
      ]),
    ]),
  ],
};

export const DIABETES_VALUE_SET = {
  resourceType: 'ValueSet',
  url: DIABETES_VS,
  name: 'TestDiabetes',
  status: 'active',
  compose: { include: [{ system: SCT, filter: [{ property: 'concept', op: 'is-a', value: CODES.diabetes }] }] },
};

/** What the remote server is given with --definitions. */
export const REMOTE_DEFINITIONS = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: SNOMED_SAMPLE }, { resource: DIABETES_VALUE_SET }] };
