import { identifierSlice, reference } from '../common.js';
import { careConnectProfile } from '../define.js';
import { atLeast, code, prohibited, required, sliceBy, slot } from '../dsl.js';
import { ccValueSet, ID } from '../urls.js';
import * as ext from './extensions/patient.js';

const nameUse = required(ccValueSet('NameUse'));

/** CareConnect-Patient-1: the NHS number slice, an official name, UK demographics extensions. */
export const patient = careConnectProfile('Patient', {
  title: 'Care Connect Patient',
  description: 'A person receiving care, with the NHS number and the UK demographic extensions.',
  extensions: {
    ethnicCategory: slot(ext.ethnicCategory.url, 0, 1),
    religiousAffiliation: slot(ext.religiousAffiliation.url, 0, 1),
    'patient-cadavericDonor': slot(ext.cadavericDonor.url, 0, 1),
    residentialStatus: slot(ext.residentialStatus.url),
    treatmentCategory: slot(ext.treatmentCategory.url),
    nhsCommunication: slot(ext.nhsCommunication.url),
    birthPlace: slot(ext.birthPlace.url),
    nominatedPharmacy: slot(ext.nominatedPharmacy.url),
    deathNotificationStatus: slot(ext.deathNotificationStatus.url, 0, 1),
  },
  rules: {
    identifier: {
      slicing: sliceBy('system', 'openAtEnd'),
      slices: {
        nhsNumber: {
          ...identifierSlice(ID.nhsNumber, 1),
          extensions: { nhsNumberVerificationStatus: slot(ext.nhsNumberVerificationStatus.url, 1, 1) },
        },
      },
    },
    name: {
      min: 1,
      slicing: sliceBy('use', 'openAtEnd'),
      slices: {
        official: { min: 1, max: 1, children: { use: { min: 1, fixed: code('official'), binding: nameUse }, family: atLeast(1) } },
        other: { children: { use: { min: 1, binding: nameUse } } },
      },
    },
    'telecom.system': atLeast(1),
    'telecom.value': atLeast(1),
    gender: { binding: required(ccValueSet('AdministrativeGender')) },
    birthDate: { extensions: { 'patient-birthTime': slot(ext.birthTime.url) } },
    maritalStatus: {
      binding: required(ccValueSet('MaritalStatus')),
      children: { coding: { min: 1, max: 1 }, 'coding.system': atLeast(1), 'coding.code': atLeast(1), 'coding.display': atLeast(1) },
    },
    'contact.name': atLeast(1),
    'contact.name.use': atLeast(1),
    'contact.gender': { binding: required(ccValueSet('AdministrativeGender')) },
    'contact.organization': reference('Organization'),
    animal: prohibited,
    communication: prohibited,
    generalPractitioner: reference('Organization', 'Practitioner'),
    managingOrganization: reference('Organization'),
    'link.other': reference('core:RelatedPerson', 'Patient'),
  },
});
