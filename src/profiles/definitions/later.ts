import { identifierRules, noteAuthor, reference, snomedCoding } from '../common.js';
import { careConnectProfile } from '../define.js';
import { preferred, required, slot } from '../dsl.js';
import { ccValueSet } from '../urls.js';
import { recorder } from './extensions/clinical.js';
import { associatedEncounter } from './extensions/encounter.js';
import { medicationQuantityText } from './extensions/medication.js';

/** The profiles published after version 3 of the reference implementation's plan. */

export const appointment = careConnectProfile('Appointment', {
  title: 'Care Connect Appointment',
  description: 'A booking of a healthcare event. The release constrains nothing of the base resource.',
  rules: {},
});

export const familyMemberHistory = careConnectProfile('FamilyMemberHistory', {
  title: 'Care Connect Family Member History',
  description: "Significant health conditions of a patient's relative, SNOMED CT coded.",
  extensions: { recorder: slot(recorder.url, 0, 1), encounter: slot(associatedEncounter.url, 0, 1) },
  rules: {
    ...identifierRules(),
    patient: reference('Patient'),
    'relationship.coding': snomedCoding({ noVersion: true }),
    gender: { binding: required(ccValueSet('AdministrativeGender')) },
    reasonReference: reference('core:QuestionnaireResponse', 'Observation', 'Condition', 'AllergyIntolerance'),
    'note.author[x]': noteAuthor(),
    'condition.code.coding': snomedCoding({ noVersion: true }),
    'condition.outcome.coding': snomedCoding({ noVersion: true }),
    'condition.note.author[x]': noteAuthor(),
  },
});

export const flag = careConnectProfile('Flag', {
  title: 'Care Connect Flag',
  description: 'A prospective warning about a patient or other subject, SNOMED CT coded.',
  rules: {
    ...identifierRules(),
    'code.coding': snomedCoding({ noVersion: true }),
    subject: reference('core:Group', 'core:PlanDefinition', 'core:Procedure', 'Patient', 'Organization', 'Practitioner', 'Location', 'Medication'),
    encounter: reference('Encounter'),
    author: reference('core:Device', 'Patient', 'Organization', 'Practitioner'),
  },
});

export const healthcareService = careConnectProfile('HealthcareService', {
  title: 'Care Connect Healthcare Service',
  description: 'A service offered at a location; exactly one identifier.',
  rules: { identifier: { min: 1, max: 1 } },
});

export const medicationDispense = careConnectProfile('MedicationDispense', {
  title: 'Care Connect Medication Dispense',
  description: 'The supply of a Care Connect Medication against a prescription.',
  rules: {
    ...identifierRules(),
    partOf: reference('Procedure'),
    'medication[x]': reference('Medication'),
    subject: reference('core:Group', 'Patient'),
    context: reference('core:EpisodeOfCare', 'Encounter'),
    'performer.actor': reference('core:Device', 'core:RelatedPerson', 'Organization', 'Patient', 'Practitioner'),
    'performer.onBehalfOf': reference('Organization'),
    authorizingPrescription: reference('MedicationRequest'),
    type: { binding: preferred(ccValueSet('MedicationSupplyType')) },
    quantity: { extensions: { quantityText: slot(medicationQuantityText.url, 0, 1) } },
    destination: reference('Location'),
    receiver: reference('Patient', 'Practitioner'),
    'note.author[x]': noteAuthor(),
    'substitution.responsibleParty': reference('Practitioner'),
  },
});

export const schedule = careConnectProfile('Schedule', {
  title: 'Care Connect Schedule',
  description: 'A container of slots for booking; exactly one identifier.',
  rules: { identifier: { min: 1, max: 1 } },
});

export const slotProfile = careConnectProfile('Slot', {
  title: 'Care Connect Slot',
  description: 'A time slot in a schedule; exactly one identifier.',
  rules: { identifier: { min: 1, max: 1 } },
});

