import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml } from '../../src/fhir/xml.js';
import { ConformanceIndex } from '../../src/fhir/conformance.js';
import { sharedPath } from '../helpers/shared.js';

let official: ConformanceIndex | undefined;

/**
 * The official Care Connect STU3 conformance resources (../shared/careconnect-stu3: the
 * profiles with snapshots, extensions, value sets, code systems), read from their XML;
 * undefined (the tests skip) when ../shared is absent.
 */
export function officialCareConnect(): ConformanceIndex | undefined {
  if (official) return official;
  const dir = sharedPath('careconnect-stu3');
  if (!dir) return undefined;
  const index = new ConformanceIndex();
  for (const folder of ['constraints', 'later', 'valuesets', 'codesystems']) {
    for (const f of readdirSync(join(dir, folder))) if (f.endsWith('.xml')) index.add(parseXml(readFileSync(join(dir, folder, f), 'utf8')));
  }
  official = index;
  return index;
}

export const CC = 'https://fhir.hl7.org.uk/STU3';
export const CC_PATIENT = `${CC}/StructureDefinition/CareConnect-Patient-1`;
export const CC_OBSERVATION = `${CC}/StructureDefinition/CareConnect-Observation-1`;
export const NHS_VERIFICATION = `${CC}/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1`;
export const ETHNIC_CATEGORY = `${CC}/StructureDefinition/Extension-CareConnect-EthnicCategory-1`;

/** A Care Connect Patient that conforms (Bernie Kanfeld, the API documentation's example). */
export function goodPatient(): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    id: 'bernie',
    meta: { profile: [CC_PATIENT] },
    extension: [
      {
        url: ETHNIC_CATEGORY,
        valueCodeableConcept: { coding: [{ system: `${CC}/CodeSystem/CareConnect-EthnicCategory-1`, code: 'A', display: 'British, Mixed British' }] },
      },
    ],
    identifier: [
      {
        extension: [
          {
            url: NHS_VERIFICATION,
            valueCodeableConcept: { coding: [{ system: `${CC}/CodeSystem/CareConnect-NHSNumberVerificationStatus-1`, code: '01', display: 'Number present and verified' }] },
          },
        ],
        system: 'https://fhir.nhs.uk/Id/nhs-number',
        value: '9876543210',
      },
    ],
    name: [{ use: 'official', family: 'Kanfeld', given: ['Bernie'], prefix: ['Miss'] }],
    telecom: [{ system: 'phone', value: '07999123456', use: 'mobile' }],
    gender: 'female',
    birthDate: '1998-03-19',
    address: [{ line: ['10 Field Jardin'], city: 'Long Eaton', postalCode: 'NG10 1ZZ' }],
    generalPractitioner: [{ reference: 'Practitioner/1', display: 'Dr Fuller' }],
    managingOrganization: { reference: 'Organization/1' },
  };
}
