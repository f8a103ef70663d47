import { identifierRules, noteAuthor, reference, snomedCoding } from '../common.js';
import { careConnectProfile } from '../define.js';
import { example, slot } from '../dsl.js';
import { ccValueSet } from '../urls.js';
import { medicationChangeSummary, medicationStatementLastIssueDate } from './extensions/medication.js';

/** CareConnect-MedicationStatement-1. */
export const medicationStatement = careConnectProfile('MedicationStatement', {
  title: 'Care Connect Medication Statement',
  description: 'A record of a medication being taken, with the last issue date and a change summary.',
  extensions: {
    lastIssueDate: slot(medicationStatementLastIssueDate.url, 0, 1),
    changeSummary: slot(medicationChangeSummary.url),
  },
  rules: {
    ...identifierRules(),
    basedOn: reference('core:CarePlan', 'core:ProcedureRequest', 'core:ReferralRequest', 'MedicationRequest'),
    partOf: reference('core:MedicationAdministration', 'Procedure', 'Observation', 'MedicationStatement', 'MedicationDispense'),
    context: reference('core:EpisodeOfCare', 'Encounter'),
    'medication[x]': reference('Medication'),
    informationSource: reference('core:RelatedPerson', 'Organization', 'Patient', 'Practitioner'),
    subject: reference('core:Group', 'Patient'),
    reasonReference: reference('Observation', 'Condition'),
    'note.author[x]': noteAuthor(),
    'dosage.route.coding': snomedCoding({ binding: example(ccValueSet('MedicationDosageRoute')) }),
  },
});
