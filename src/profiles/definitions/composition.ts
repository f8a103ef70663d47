import { identifierRules, reference, refs } from '../common.js';
import { careConnectProfile } from '../define.js';
import { preferred, slot } from '../dsl.js';
import { ccValueSet } from '../urls.js';
import { careSettingType } from './extensions/documents.js';

/** CareConnect-Composition-1: clinical documents with a care setting. */
export const composition = careConnectProfile('Composition', {
  title: 'Care Connect Composition',
  description: 'A clinical document, with the care setting it comes from and its SNOMED CT section headings.',
  extensions: { careSettingTypeExtension: slot(careSettingType.url, 0, 1) },
  rules: {
    ...identifierRules(),
    type: { binding: preferred(ccValueSet('DocumentType')) },
    encounter: reference('Encounter'),
    author: reference('core:Device', 'core:RelatedPerson', 'Practitioner', 'Patient'),
    'attester.party': reference('Organization', 'Practitioner', 'Patient'),
    custodian: reference('Organization'),
    relatesTo: { max: 1 },
    'relatesTo.target[x]': { type: [{ code: 'Identifier' }, ...refs('Composition')] },
    'section.code': { binding: preferred(ccValueSet('CompositionSectionCode')) },
  },
});
