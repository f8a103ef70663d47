/** Code systems, identifier systems and Care Connect canonical URLs used by the generated data. */

export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const ACT_CODE = 'http://hl7.org/fhir/v3/ActCode';
export const MARITAL = 'http://hl7.org/fhir/v3/MaritalStatus';
export const OBSERVATION_CATEGORY = 'http://hl7.org/fhir/observation-category';
export const DIAGNOSTIC_SECTION = 'http://hl7.org/fhir/v2/0074';
export const FLAG_CATEGORY = 'http://hl7.org/fhir/flag-category';

export const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
export const LOCAL_PATIENT_ID = 'https://fhir.nhs.uk/Id/local-patient-identifier';
export const ODS_ORGANISATION = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const ODS_SITE = 'https://fhir.nhs.uk/Id/ods-site-code';
export const SDS_USER = 'https://fhir.nhs.uk/Id/sds-user-id';
export const SDS_ROLE_PROFILE = 'https://fhir.nhs.uk/Id/sds-role-profile-id';
export const GMC = 'https://fhir.hl7.org.uk/Id/gmc-number';
export const GMP = 'https://fhir.hl7.org.uk/Id/gmp-number';

const CC = 'https://fhir.hl7.org.uk/STU3';
export const profile = (name: string) => `${CC}/StructureDefinition/CareConnect-${name}-1`;
export const extension = (name: string) => `${CC}/StructureDefinition/Extension-CareConnect-${name}-1`;
export const codeSystem = (name: string) => `${CC}/CodeSystem/CareConnect-${name}-1`;

/**
 * The generated resource types that have a Care Connect STU3 profile (EpisodeOfCare,
 * DiagnosticReport, DocumentReference and Binary have none).
 */
export const PROFILED = new Set([
  'Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Observation', 'Encounter', 'Condition',
  'Procedure', 'AllergyIntolerance', 'Immunization', 'Medication', 'MedicationRequest', 'MedicationStatement',
  'Composition', 'Flag', 'FamilyMemberHistory',
]);

/** A code with its display term. */
export interface Concept {
  code: string;
  display: string;
}

export function coding(system: string, c: Concept): { system: string; code: string; display: string } {
  return { system, code: c.code, display: c.display };
}

export function snomed(c: Concept): { coding: Array<{ system: string; code: string; display: string }> } {
  return { coding: [coding(SNOMED, c)] };
}
