import type { Concept } from './systems.js';

/**
 * Codes from the Care Connect STU3 code systems (displays exactly as in
 * CodeSystem-CareConnect-*-1), with the weights the generator draws them by.
 */

/** CareConnect-NHSNumberVerificationStatus-1. */
export const NHS_NUMBER_VERIFIED: Concept = { code: '01', display: 'Number present and verified' };

/** CareConnect-EthnicCategory-1, weighted roughly like the population of Leeds. */
export const ETHNIC_CATEGORIES: ReadonlyArray<readonly [Concept, number]> = [
  [{ code: 'A', display: 'British, Mixed British' }, 74],
  [{ code: 'B', display: 'Irish' }, 1],
  [{ code: 'C', display: 'Any other White background' }, 4],
  [{ code: 'D', display: 'White and Black Caribbean' }, 1],
  [{ code: 'F', display: 'White and Asian' }, 1],
  [{ code: 'G', display: 'Any other mixed background' }, 1],
  [{ code: 'H', display: 'Indian or British Indian' }, 2],
  [{ code: 'J', display: 'Pakistani or British Pakistani' }, 4],
  [{ code: 'K', display: 'Bangladeshi or British Bangladeshi' }, 1],
  [{ code: 'L', display: 'Any other Asian background' }, 1],
  [{ code: 'M', display: 'Caribbean' }, 1],
  [{ code: 'N', display: 'African' }, 3],
  [{ code: 'R', display: 'Chinese' }, 1],
  [{ code: 'S', display: 'Any other ethnic group' }, 1],
  [{ code: 'Z', display: 'Not stated' }, 4],
];

/** http://hl7.org/fhir/v3/MaritalStatus, the codes of CareConnect-MaritalStatus-1 used here. */
export const MARITAL_STATUS = {
  single: { code: 'S', display: 'Never Married' },
  married: { code: 'M', display: 'Married' },
  divorced: { code: 'D', display: 'Divorced' },
  widowed: { code: 'W', display: 'Widowed' },
} satisfies Record<string, Concept>;

/** CareConnect-SDSJobRoleName-1. */
export const SDS_JOB_ROLES = {
  gp: { code: 'R0260', display: 'General Medical Practitioner' },
  salariedGp: { code: 'R0270', display: 'Salaried General Practitioner' },
  consultant: { code: 'R0050', display: 'Consultant' },
  associateSpecialist: { code: 'R0070', display: 'Associate Specialist' },
  staffGrade: { code: 'R0080', display: 'Staff Grade' },
  nurseConsultant: { code: 'R0570', display: 'Nurse Consultant' },
  staffNurse: { code: 'R0620', display: 'Staff Nurse' },
  pharmacist: { code: 'R1290', display: 'Pharmacist' },
} satisfies Record<string, Concept>;

/** CareConnect-ConditionCategory-1. */
export const CONDITION_CATEGORY = {
  problem: { code: 'problem-list-item', display: 'Problem List Item' },
  diagnosis: { code: 'encounter-diagnosis', display: 'Encounter Diagnosis' },
} satisfies Record<string, Concept>;
