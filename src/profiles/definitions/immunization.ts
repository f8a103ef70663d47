import { identifierRules, noteAuthor, reference, snomedCoding } from '../common.js';
import { careConnectProfile } from '../define.js';
import { atLeast, example, extensible, slot } from '../dsl.js';
import { ccValueSet } from '../urls.js';
import { dateRecorded, parentPresent, vaccinationProcedure } from './extensions/clinical.js';

/** CareConnect-Immunization-1: immunisations given (notGiven fixed false). */
export const immunization = careConnectProfile('Immunization', {
  title: 'Care Connect Immunization',
  description: 'A vaccine given to a patient, with the vaccination procedure and who was present.',
  extensions: {
    parentPresent: slot(parentPresent.url, 0, 1),
    recordedDate: slot(dateRecorded.url, 0, 1),
    vaccinationProcedure: slot(vaccinationProcedure.url),
  },
  rules: {
    ...identifierRules(),
    notGiven: { fixed: { boolean: false } },
    vaccineCode: { binding: extensible(ccValueSet('VaccineCode')) },
    patient: reference('Patient'),
    encounter: reference('Encounter'),
    location: reference('Location'),
    manufacturer: reference('Organization'),
    'site.coding': snomedCoding(),
    'route.coding': snomedCoding({ binding: example(ccValueSet('MedicationDosageRoute')) }),
    'practitioner.actor': reference('Practitioner'),
    'note.author[x]': noteAuthor('Practitioner', 'Patient'),
    'explanation.reason': { binding: example(ccValueSet('ImmunizationExplanationReason', 2)) },
    'reaction.detail': reference('Observation'),
    'vaccinationProtocol.doseSequence': atLeast(1),
    'vaccinationProtocol.authority': reference('Organization'),
    'vaccinationProtocol.targetDisease.coding': snomedCoding(),
    'vaccinationProtocol.doseStatus.coding.system': atLeast(1),
    'vaccinationProtocol.doseStatus.coding.code': atLeast(1),
    'vaccinationProtocol.doseStatus.coding.display': atLeast(1),
  },
});
