import { careConnectExtension } from '../../define.js';
import { refs, reference } from '../../common.js';
import { required } from '../../dsl.js';
import { ccValueSet } from '../../urls.js';
import { codeValue, coded, typed } from './coded.js';

/** Extensions on the clinical resources: allergies, conditions, procedures, immunisations, observations. */

export const allergyIntoleranceEnd = careConnectExtension('AllergyIntoleranceEnd', {
  title: 'Allergy end',
  description: 'When and why the allergy or intolerance stopped being valid.',
  context: ['AllergyIntolerance'],
  parts: {
    endDate: { max: 1, value: typed('dateTime') },
    reasonEnded: { max: 1, value: typed('string') },
  },
});

export const evidence = careConnectExtension('Evidence', {
  title: 'Evidence',
  description: 'A report of the investigations that confirmed the allergy.',
  context: ['AllergyIntolerance'],
  value: reference('core:DiagnosticReport'),
});

export const anaestheticIssues = careConnectExtension('AnaestheticIssues', {
  title: 'Anaesthetic issues',
  description: 'An adverse reaction to an anaesthetic agent during the procedure.',
  context: ['Procedure'],
  max: 1,
  value: { type: [{ code: 'CodeableConcept' }, ...refs('Condition')], binding: required(ccValueSet('ConditionCode')) },
});

export const conditionEpisode = careConnectExtension('ConditionEpisode', {
  title: 'Condition episode',
  description: 'The episodicity of a condition: first, new, review or end.',
  context: ['Condition'],
  value: codeValue('ConditionEpisodicity'),
});

export const dateRecorded = careConnectExtension('DateRecorded', {
  title: 'Date recorded',
  description: 'When the event was recorded on the system.',
  context: ['Immunization'],
  value: typed('dateTime', 1),
});

export const parentPresent = careConnectExtension('ParentPresent', {
  title: 'Parent present',
  description: 'Whether a parent was present at the immunisation.',
  context: ['Immunization'],
  value: typed('boolean', 1),
});

export const vaccinationProcedure = careConnectExtension('VaccinationProcedure', {
  title: 'Vaccination procedure',
  description: 'The SNOMED CT procedure code of the immunisation.',
  context: ['Immunization'],
  max: 1,
  value: coded('VaccinationProcedure'),
});

export const reasonCondition = careConnectExtension('ReasonCondition', {
  title: 'Reason',
  description: 'Why the observation was made: a condition, or a code.',
  context: ['Observation'],
  value: { min: 1, type: [{ code: 'CodeableConcept' }, ...refs('Condition')] },
});

export const recorder = careConnectExtension('Recorder', {
  title: 'Recorder',
  description: 'Who recorded the family member history.',
  context: ['FamilyMemberHistory'],
  value: { min: 1, ...reference('Patient', 'Practitioner') },
});
