import { identifierRules, noteAuthor, reference, snomedCoding } from '../common.js';
import { careConnectProfile } from '../define.js';
import { extensible, required, slot } from '../dsl.js';
import { ccValueSet } from '../urls.js';
import { anaestheticIssues } from './extensions/clinical.js';

/** CareConnect-Procedure-1. */
export const procedure = careConnectProfile('Procedure', {
  title: 'Care Connect Procedure',
  description: 'An action performed on or for a patient, SNOMED CT coded.',
  extensions: { anaestheticIssues: slot(anaestheticIssues.url) },
  rules: {
    ...identifierRules(),
    partOf: reference('core:MedicationAdministration', 'Procedure', 'Observation'),
    code: { binding: { strength: 'preferred' } },
    'code.coding': snomedCoding({ binding: extensible(ccValueSet('ProcedureCode')) }),
    subject: reference('core:Group', 'Patient'),
    context: reference('core:EpisodeOfCare', 'Encounter'),
    'performer.actor': reference('core:RelatedPerson', 'core:Device', 'Organization', 'Patient', 'Practitioner'),
    'performer.onBehalfOf': reference('Organization'),
    location: reference('Location'),
    reasonReference: reference('Observation', 'Condition'),
    'bodySite.coding': snomedCoding({ binding: extensible(ccValueSet('BodySite')) }),
    'complication.coding': snomedCoding({ binding: required(ccValueSet('ConditionCode')) }),
    complicationDetail: reference('Condition'),
    'note.author[x]': noteAuthor(),
    usedReference: reference('core:Device', 'core:Substance', 'Medication'),
  },
});
