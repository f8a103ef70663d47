/** Canonical URLs, exactly as the Care Connect STU3 release (HL7 UK, December 2018) names them. */

const UK = 'https://fhir.hl7.org.uk/STU3';
const HL7 = 'http://hl7.org/fhir';

/** `CareConnect-<name>-1` profile. */
export const ccProfile = (name: string): string => `${UK}/StructureDefinition/CareConnect-${name}-1`;
/** `Extension-CareConnect-<name>-1`. */
export const ccExtension = (name: string): string => `${UK}/StructureDefinition/Extension-CareConnect-${name}-1`;
/** `CareConnect-<name>-<version>` value set (one is at version 2). */
export const ccValueSet = (name: string, version = 1): string => `${UK}/ValueSet/CareConnect-${name}-${version}`;
export const ccCodeSystem = (name: string): string => `${UK}/CodeSystem/CareConnect-${name}-1`;

/** A core STU3 resource (or an HL7 extension) by its StructureDefinition name. */
export const hl7Definition = (name: string): string => `${HL7}/StructureDefinition/${name}`;
export const hl7ValueSet = (name: string): string => `${HL7}/ValueSet/${name}`;

/** The SNOMED CT description id extension (a UK extension without the usual `-1`). */
export const SCT_DESCRIPTION_ID = `${UK}/StructureDefinition/Extension-coding-sctdescid`;

export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';

export const ID = {
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
  odsOrganisation: 'https://fhir.nhs.uk/Id/ods-organization-code',
  odsSite: 'https://fhir.nhs.uk/Id/ods-site-code',
  sdsUser: 'https://fhir.nhs.uk/Id/sds-user-id',
  sdsRoleProfile: 'https://fhir.nhs.uk/Id/sds-role-profile-id',
} as const;

/** The last segment of a canonical URL: the id the resource is served under. */
export function idOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}
