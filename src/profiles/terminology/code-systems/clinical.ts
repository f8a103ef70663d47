import { careConnectCodeSystem } from '../../define.js';
import { table } from '../../dsl.js';

/** Code systems of conditions, lists and medications. */

export const conditionCategory = careConnectCodeSystem('ConditionCategory', {
  title: 'Condition category',
  description: 'The kind of a condition record: problem list item, encounter diagnosis, and others.',
  concepts: table(`
  problem-list-item     Problem List Item
  encounter-diagnosis   Encounter Diagnosis
  presenting-complaint  Presenting Complaint
  co-morbidity          Co-morbidity
  issue                 Issue
`),
});

export const conditionEpisodicity = careConnectCodeSystem('ConditionEpisodicity', {
  title: 'Condition episodicity',
  description: 'The episode of a condition a record belongs to.',
  concepts: table(`
  first   First
  new     New
  review  Review
  end     End
`),
});

export const listEmptyReasonCode = careConnectCodeSystem('ListEmptyReasonCode', {
  title: 'List empty reason',
  description: 'Why a list is empty.',
  concepts: table(`
  no-content-recorded  No Content Recorded
`),
});

export const listWarningCode = careConnectCodeSystem('ListWarningCode', {
  title: 'List warning',
  description: 'Why a list may be incomplete.',
  concepts: table(`
  confidential-items    Confidential Items
  data-in-transit       Data in Transit
  data-awaiting-filing  Data Awaiting Filing
`),
});

export const medicationChangeStatus = careConnectCodeSystem('MedicationChangeStatus', {
  title: 'Medication change status',
  description: 'What happened to a medication item at a review.',
  concepts: table(`
  Continued  Continued
  Added      Added
  Amended    Amended
  On-hold    On-hold
`),
});

export const prescriptionType = careConnectCodeSystem('PrescriptionType', {
  title: 'Prescription type',
  description: 'The kind of prescription: acute, repeat, repeat dispensing, delayed.',
  concepts: table(`
  acute                Acute
  repeat               Repeat
  repeat-dispensing    Repeat dispensing
  delayed-prescribing  Delayed prescribing
`),
});
