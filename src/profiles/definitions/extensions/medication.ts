import { careConnectExtension } from '../../define.js';
import { codeValue, coded, typed } from './coded.js';

/** Extensions on the medication resources. */

export const medicationChangeSummary = careConnectExtension('MedicationChangeSummary', {
  title: 'Medication change summary',
  description: 'What changed about a medication item, when and why.',
  context: ['MedicationStatement'],
  max: 1,
  parts: {
    status: { max: 1, value: codeValue('MedicationChangeStatus', 0) },
    indicationForChange: { max: 1, value: typed('CodeableConcept') },
    dateChanged: { max: 1, value: typed('dateTime') },
    detailsOfAmendment: { max: 1, value: typed('string') },
  },
});

export const medicationQuantityText = careConnectExtension('MedicationQuantityText', {
  title: 'Medication quantity text',
  description: 'The quantity of a medication as text, beside the structured quantity.',
  context: ['MedicationRequest.dispenseRequest.quantity', 'MedicationDispense.quantity'],
  value: typed('string'),
});

export const medicationRepeatInformation = careConnectExtension('MedicationRepeatInformation', {
  title: 'Medication repeat information',
  description: 'How many repeats are allowed and issued, and when the authorisation expires.',
  context: ['MedicationRequest'],
  max: 1,
  parts: {
    numberOfRepeatPrescriptionsAllowed: { max: 1, value: typed('positiveInt', 1) },
    numberOfRepeatPrescriptionsIssued: { max: 1, value: typed('positiveInt') },
    authorisationExpiryDate: { max: 1, value: typed('dateTime') },
  },
});

export const medicationStatementLastIssueDate = careConnectExtension('MedicationStatementLastIssueDate', {
  title: 'Last issue date',
  description: 'When a prescription was last issued.',
  context: ['MedicationStatement'],
  value: typed('dateTime'),
});

export const medicationStatusReason = careConnectExtension('MedicationStatusReason', {
  title: 'Medication status reason',
  description: 'Why and when the medication plan or order was stopped.',
  context: ['MedicationRequest'],
  max: 1,
  parts: {
    statusReason: { min: 1, max: 1, value: typed('CodeableConcept') },
    statusChangeDate: { max: 1, value: typed('dateTime') },
  },
});

export const prescriptionType = careConnectExtension('PrescriptionType', {
  title: 'Prescription type',
  description: 'Acute, repeat, repeat dispensing or delayed prescribing.',
  context: ['MedicationRequest'],
  max: 1,
  value: coded('PrescriptionType', 0),
});
