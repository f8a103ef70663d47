import { identifierRules, noteAuthor, reference, snomedCoding } from '../common.js';
import { careConnectProfile } from '../define.js';
import { atLeast, preferred, required, slot, uri } from '../dsl.js';
import { ccValueSet, hl7ValueSet, UCUM } from '../urls.js';
import * as ext from './extensions/medication.js';

/** CareConnect-MedicationRequest-1: prescriptions, with repeat information and a Care Connect Medication. */
export const medicationRequest = careConnectProfile('MedicationRequest', {
  title: 'Care Connect Medication Request',
  description: 'An order or plan to supply and give a medication, with repeat and prescription-type details.',
  extensions: {
    repeatInformation: slot(ext.medicationRepeatInformation.url),
    statusReason: slot(ext.medicationStatusReason.url),
    prescriptionType: slot(ext.prescriptionType.url),
  },
  rules: {
    ...identifierRules(),
    basedOn: reference('core:CarePlan', 'core:ProcedureRequest', 'core:ReferralRequest', 'MedicationRequest'),
    'groupIdentifier.assigner': reference('Organization'),
    'medication[x]': reference('Medication'),
    subject: reference('core:Group', 'Patient'),
    context: reference('core:EpisodeOfCare', 'Encounter'),
    'requester.agent': reference('core:RelatedPerson', 'core:Device', 'Organization', 'Patient', 'Practitioner'),
    'requester.onBehalfOf': reference('Organization'),
    recorder: reference('Practitioner'),
    reasonReference: reference('Condition', 'Observation'),
    'note.author[x]': noteAuthor(),
    'dosageInstruction.additionalInstruction.coding': snomedCoding(),
    'dosageInstruction.route.coding': snomedCoding({ binding: preferred(ccValueSet('MedicationDosageRoute')) }),
    'dispenseRequest.quantity': { extensions: { quantityText: slot(ext.medicationQuantityText.url, 0, 1) } },
    'dispenseRequest.expectedSupplyDuration.value': atLeast(1),
    'dispenseRequest.expectedSupplyDuration.system': { min: 1, fixed: uri(UCUM) },
    'dispenseRequest.expectedSupplyDuration.code': { min: 1, binding: required(hl7ValueSet('units-of-time')) },
    'dispenseRequest.performer': reference('Organization'),
    priorPrescription: reference('MedicationRequest'),
  },
});
