import { careConnectExtension, extensionAt } from '../../define.js';
import { atLeast, prohibited, uri } from '../../dsl.js';
import { SCT_DESCRIPTION_ID, SNOMED } from '../../urls.js';
import { codeValue, coded, typed } from './coded.js';

/** Extensions on Composition, List, and the SNOMED CT description id on codings. */

export const careSettingType = careConnectExtension('CareSettingType', {
  title: 'Care setting type',
  description: 'The care setting a document comes from: one SNOMED CT coding, without version or text.',
  context: ['Composition'],
  value: {
    ...coded('CareSettingType'),
    children: {
      coding: { min: 1, max: 1 },
      'coding.system': { min: 1, fixed: uri(SNOMED) },
      'coding.version': prohibited,
      'coding.code': atLeast(1),
      'coding.display': atLeast(1),
      'coding.userSelected': prohibited,
      text: prohibited,
    },
  },
});

export const clinicalSetting = careConnectExtension('ClinicalSetting', {
  title: 'Clinical setting',
  description: 'The clinical setting of a list.',
  context: ['List'],
  max: 1,
  value: coded('CareSettingType'),
});

export const listWarningCode = careConnectExtension('ListWarningCode', {
  title: 'List warning code',
  description: 'A warning that the list may be incomplete because data was left out.',
  context: ['List'],
  max: 1,
  value: codeValue('ListWarningCode'),
});

export const sctDescriptionId = extensionAt(SCT_DESCRIPTION_ID, {
  title: 'SNOMED CT description id',
  description: 'The SNOMED CT description id and term of the display of a SNOMED CT coding.',
  context: ['Encounter', 'Condition', 'Observation', 'Flag', 'Immunization', 'AllergyIntolerance', 'FamilyMemberHistory', 'MedicationRequest', 'MedicationStatement', 'Procedure', 'Medication'],
  max: 1,
  parts: {
    descriptionId: { min: 1, max: 1, value: typed('id') },
    descriptionDisplay: { min: 1, max: 1, value: typed('string') },
  },
});
