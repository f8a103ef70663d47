import { identifierRules, noteAuthor, reference } from '../common.js';
import { careConnectProfile } from '../define.js';
import { preferred, slot } from '../dsl.js';
import { ccValueSet } from '../urls.js';
import { clinicalSetting, listWarningCode } from './extensions/documents.js';

/** CareConnect-List-1. */
export const list = careConnectProfile('List', {
  title: 'Care Connect List',
  description: 'A list of resources (problems, medications, allergies...), with its clinical setting and warnings.',
  extensions: { clinicalSetting: slot(clinicalSetting.url), warningCode: slot(listWarningCode.url) },
  rules: {
    ...identifierRules(),
    code: { binding: preferred(ccValueSet('ListCode')) },
    subject: reference('core:Group', 'core:Device', 'Patient', 'Location'),
    encounter: reference('Encounter'),
    source: reference('core:Device', 'Patient', 'Practitioner'),
    'note.author[x]': noteAuthor(),
    emptyReason: { binding: preferred(ccValueSet('ListEmptyReasonCode')) },
  },
});
