import { identifierRules, reference, snomedCoding } from '../common.js';
import { careConnectProfile } from '../define.js';
import { slot } from '../dsl.js';
import { reasonCondition } from './extensions/clinical.js';

const snomed = snomedCoding({ noVersion: true });

/** CareConnect-Observation-1: SNOMED CT coded observations (no coding version). */
export const observation = careConnectProfile('Observation', {
  title: 'Care Connect Observation',
  description: 'A measurement or assertion about a patient, SNOMED CT coded.',
  extensions: { reason: slot(reasonCondition.url) },
  rules: {
    ...identifierRules(),
    'category.coding': snomed,
    'code.coding': snomed,
    subject: reference('core:Group', 'core:Device', 'Patient', 'Location'),
    context: reference('core:EpisodeOfCare', 'Encounter'),
    performer: reference('core:RelatedPerson', 'Patient', 'Organization', 'Practitioner'),
    'bodySite.coding': snomed,
    'method.coding': snomed,
    'related.target': reference('core:QuestionnaireResponse', 'core:Sequence', 'Observation'),
    'component.code.coding': snomed,
  },
});
