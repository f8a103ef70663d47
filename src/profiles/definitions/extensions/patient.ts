import { careConnectExtension, extensionAt } from '../../define.js';
import { reference } from '../../common.js';
import { uri } from '../../dsl.js';
import { ccCodeSystem, hl7Definition } from '../../urls.js';
import { coded, typed } from './coded.js';

/** Extensions on Patient (and Practitioner, for NHSCommunication). */

export const ethnicCategory = careConnectExtension('EthnicCategory', {
  title: 'Ethnic category',
  description: "The patient's ethnic category, as the NHS Data Dictionary codes it.",
  context: ['Patient'],
  value: coded('EthnicCategory'),
});

export const religiousAffiliation = careConnectExtension('ReligiousAffiliation', {
  title: 'Religious affiliation',
  description: "The patient's religious affiliation (a SNOMED CT reference set).",
  context: ['Patient'],
  value: coded('ReligiousAffiliation'),
});

export const residentialStatus = careConnectExtension('ResidentialStatus', {
  title: 'Residential status',
  description: 'Whether the patient is resident in the UK or overseas.',
  context: ['Patient'],
  max: 1,
  value: coded('ResidentialStatus'),
});

export const treatmentCategory = careConnectExtension('TreatmentCategory', {
  title: 'Treatment category',
  description: 'The charging category of an overseas visitor.',
  context: ['Patient'],
  max: 1,
  value: coded('TreatmentCategory', 0),
});

export const nhsCommunication = careConnectExtension('NHSCommunication', {
  title: 'NHS communication',
  description: 'A language the person communicates in, how, how well, and whether an interpreter is needed.',
  context: ['Patient', 'Practitioner'],
  parts: {
    language: { min: 1, max: 1, value: coded('HumanLanguage') },
    preferred: { max: 1, value: typed('boolean', 1) },
    modeOfCommunication: { value: coded('LanguageAbilityMode') },
    communicationProficiency: { max: 1, value: coded('LanguageAbilityProficiency') },
    interpreterRequired: { max: 1, value: typed('boolean', 1) },
  },
});

export const nhsNumberVerificationStatus = careConnectExtension('NHSNumberVerificationStatus', {
  title: 'NHS number verification status',
  description: 'How far the NHS number has been traced and verified (01 = present and verified).',
  context: ['Patient.identifier'],
  value: coded('NHSNumberVerificationStatus'),
});

export const nominatedPharmacy = careConnectExtension('NominatedPharmacy', {
  title: 'Nominated pharmacy',
  description: "The patient's nominated pharmacy.",
  context: ['Patient'],
  max: 1,
  value: reference('Organization'),
});

export const deathNotificationStatus = careConnectExtension('DeathNotificationStatus', {
  title: 'Death notification status',
  description: "The patient's death notification status as the Personal Demographics Service holds it.",
  context: ['Patient'],
  max: 1,
  parts: {
    deathNotificationStatus: {
      min: 1,
      max: 1,
      value: { ...coded('DeathNotificationStatus'), children: { 'coding.system': { fixed: uri(ccCodeSystem('DeathNotificationStatus')) } } },
    },
    systemEffectiveDate: { max: 1, value: typed('dateTime') },
  },
});

/* HL7 extensions that the Care Connect release re-publishes under their HL7 URLs, with UK cardinalities. */

export const birthPlace = extensionAt(hl7Definition('birthPlace'), {
  title: 'Birth place',
  description: 'The registered place of birth of the patient.',
  context: ['Patient'],
  max: 1,
  value: typed('Address'),
});

export const birthTime = extensionAt(hl7Definition('patient-birthTime'), {
  title: 'Birth time',
  description: 'The time of day the patient was born, with the date, so that the time zone is clear.',
  context: ['Patient.birthDate'],
  max: 1,
  value: typed('dateTime'),
});

export const cadavericDonor = extensionAt(hl7Definition('patient-cadavericDonor'), {
  title: 'Cadaveric donor',
  description: 'Whether the patient authorised the donation of body parts after death.',
  context: ['Patient'],
  value: typed('boolean'),
});
