import { identifierRules, noteAuthor, reference, snomedCoding } from '../common.js';
import { careConnectProfile } from '../define.js';
import { atLeast, extensible, prohibited, required, slot } from '../dsl.js';
import { ccValueSet } from '../urls.js';
import { conditionEpisode } from './extensions/clinical.js';

/** CareConnect-Condition-1. */
export const condition = careConnectProfile('Condition', {
  title: 'Care Connect Condition',
  description: 'A problem, diagnosis or other clinical finding, SNOMED CT coded.',
  extensions: { episodisity: slot(conditionEpisode.url) },
  rules: {
    ...identifierRules(),
    verificationStatus: prohibited,
    category: { binding: extensible(ccValueSet('ConditionCategory')) },
    'category.coding.system': atLeast(1),
    'category.coding.code': atLeast(1),
    'category.coding.display': atLeast(1),
    'code.coding': snomedCoding({ binding: required(ccValueSet('ConditionCode')) }),
    'bodySite.coding': snomedCoding({ binding: required(ccValueSet('BodySite')) }),
    subject: reference('core:Group', 'Patient'),
    context: reference('core:EpisodeOfCare', 'Encounter'),
    asserter: reference('core:RelatedPerson', 'Patient', 'Practitioner'),
    'stage.summary.coding': snomedCoding(),
    'stage.assessment': reference('core:ClinicalImpression', 'core:DiagnosticReport', 'Observation'),
    'note.author[x]': noteAuthor(),
  },
});
