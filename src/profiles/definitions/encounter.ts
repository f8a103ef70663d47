import { identifierRules, reference, snomedCoding } from '../common.js';
import { careConnectProfile } from '../define.js';
import { example, extensible, preferred, slot } from '../dsl.js';
import { ccValueSet } from '../urls.js';
import * as ext from './extensions/encounter.js';

/** CareConnect-Encounter-1. */
export const encounter = careConnectProfile('Encounter', {
  title: 'Care Connect Encounter',
  description: 'An interaction between a patient and care providers, with the NHS admission and discharge details.',
  extensions: {
    encounterTransport: slot(ext.encounterTransport.url),
    outcomeOfAttendance: slot(ext.outcomeOfAttendance.url),
    emergencyCareDischargeStatus: slot(ext.emergencyCareDischargeStatus.url),
  },
  rules: {
    ...identifierRules(),
    // The release caps `coding` (not the slice) at one, unlike every other SNOMED CT slice.
    'type.coding': { ...snomedCoding({ binding: extensible(ccValueSet('EncounterType')), sliceMax: null }), max: 1 },
    subject: reference('core:Group', 'Patient'),
    'participant.individual': reference('core:RelatedPerson', 'Practitioner'),
    'reason.coding': snomedCoding(),
    'diagnosis.condition': reference('Procedure', 'Condition'),
    hospitalization: {
      extensions: { admissionMethod: slot(ext.admissionMethod.url), dischargeMethod: slot(ext.dischargeMethod.url) },
    },
    ...identifierRules('hospitalization.preAdmissionIdentifier'),
    'hospitalization.origin': reference('Location'),
    'hospitalization.admitSource': { binding: preferred(ccValueSet('SourceOfAdmission')) },
    'hospitalization.reAdmission.coding': snomedCoding(),
    'hospitalization.dietPreference': { binding: { strength: 'extensible' } },
    'hospitalization.destination': reference('Location'),
    'hospitalization.dischargeDisposition': { binding: example(ccValueSet('DischargeDestination')) },
    'location.location': reference('Location'),
    serviceProvider: reference('Organization'),
    partOf: reference('Encounter'),
  },
});
