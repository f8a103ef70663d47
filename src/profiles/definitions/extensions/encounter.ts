import { careConnectExtension, extensionAt } from '../../define.js';
import { reference } from '../../common.js';
import { hl7Definition } from '../../urls.js';
import { coded, typed } from './coded.js';

/** Extensions on Encounter (and the associated-encounter extension used by other resources). */

export const admissionMethod = careConnectExtension('AdmissionMethod', {
  title: 'Admission method',
  description: 'How the patient was admitted to hospital (NHS Data Dictionary).',
  context: ['Encounter.hospitalization'],
  max: 1,
  value: coded('AdmissionMethod'),
});

export const dischargeMethod = careConnectExtension('DischargeMethod', {
  title: 'Discharge method',
  description: 'How the patient was discharged from hospital (NHS Data Dictionary).',
  context: ['Encounter.hospitalization'],
  max: 1,
  value: coded('DischargeMethod'),
});

export const emergencyCareDischargeStatus = careConnectExtension('EmergencyCareDischargeStatus', {
  title: 'Emergency care discharge status',
  description: 'The status of the patient on discharge from an emergency care department.',
  context: ['Encounter'],
  max: 1,
  value: coded('EmergencyCareDischargeStatus'),
});

export const outcomeOfAttendance = careConnectExtension('OutcomeOfAttendance', {
  title: 'Outcome of attendance',
  description: 'The outcome of an out-patient attendance (NHS Data Dictionary).',
  context: ['Encounter'],
  max: 1,
  value: coded('OutcomeOfAttendance'),
});

export const encounterTransport = careConnectExtension('EncounterTransport', {
  title: 'Encounter transport',
  description: 'The transport the patient used for the encounter, when, and why.',
  context: ['Encounter'],
  max: 1,
  parts: {
    transportType: { min: 1, max: 1, value: typed('CodeableConcept') },
    transportPeriod: { max: 1, value: typed('Period') },
    reasonForTransport: { max: 1, value: typed('string') },
  },
});

export const associatedEncounter = extensionAt(hl7Definition('encounter-associatedEncounter'), {
  title: 'Associated encounter',
  description: 'The Care Connect encounter within whose scope this resource was recorded.',
  context: ['FamilyMemberHistory', 'AllergyIntolerance'],
  value: reference('Encounter'),
});
