import { careConnectValueSet } from '../define.js';
import { table, type Include, type ValueSetDef } from '../dsl.js';
import { SNOMED } from '../urls.js';
import * as clinical from './code-systems/clinical.js';
import * as communication from './code-systems/communication.js';
import * as demographics from './code-systems/demographics.js';
import * as hospital from './code-systems/hospital.js';
import { sdsJobRoleName } from './code-systems/sds-job-role-name.js';

/**
 * The value sets the Care Connect profiles bind, at any strength. Those over a Care
 * Connect code system include all of it; SNOMED CT ones keep the release's filter (a
 * reference set or an ECL expression), which cannot be expanded without SNOMED CT itself:
 * see docs/profiles.md, "SNOMED CT value sets".
 */

const NULL_FLAVOR = 'http://hl7.org/fhir/v3/NullFlavor';

const all = (cs: { url: string }): Include => ({ system: cs.url });
/** A SNOMED CT ECL expression, as the release writes it (`constraint = ...`). */
const ecl = (expression: string): Include => ({ system: SNOMED, filters: [{ property: 'constraint', op: '=', value: expression }] });
/** Members of a SNOMED CT reference set (`concept in <refset>`). */
const refset = (id: string): Include => ({ system: SNOMED, filters: [{ property: 'concept', op: 'in', value: id }] });
const nullFlavors = (codes: string): Include => ({ system: NULL_FLAVOR, concepts: table(codes) });

function vs(name: string, title: string, description: string, ...include: Include[]): ValueSetDef {
  return careConnectValueSet(name, { title, description, include });
}

export const valueSets: ValueSetDef[] = [
  vs('AdministrativeGender', 'Administrative gender', 'The gender of a person for administrative purposes.', {
    system: 'http://hl7.org/fhir/administrative-gender',
    concepts: table(`
      male     Male
      female   Female
      other    Other
      unknown  Unknown`),
  }),
  vs('NameUse', 'Name use', 'The use of a human name: all the codes of the HL7 name-use code system. The release binds Patient.name to it but does not include it; see docs/profiles.md.', {
    system: 'http://hl7.org/fhir/name-use',
  }),
  vs('MaritalStatus', 'Marital status', 'The marital status of a person (HL7 v3), or unknown.', {
    system: 'http://hl7.org/fhir/v3/MaritalStatus',
    concepts: table(`
      A  Annulled
      D  Divorced
      I  Interlocutory
      L  Legally Separated
      M  Married
      P  Polygamous
      S  Never Married
      T  Domestic partner
      U  unmarried
      W  Widowed`),
  }, nullFlavors('UNK unknown')),
  vs('EthnicCategory', 'Ethnic category', 'The ethnic category of a person, as the person states it.', all(demographics.ethnicCategory)),
  vs('NHSNumberVerificationStatus', 'NHS number verification status', 'The trace and verification status of an NHS number.', all(demographics.nhsNumberVerificationStatus)),
  vs('DeathNotificationStatus', 'Death notification status', 'The kind of death notice the Personal Demographics Service holds.', all(demographics.deathNotificationStatus)),
  vs('ResidentialStatus', 'Residential status', 'The residential status of a patient.', all(demographics.residentialStatus)),
  vs('TreatmentCategory', 'Treatment category', 'The treatment (charging) category of a patient.', all(demographics.treatmentCategory)),
  vs('ReligiousAffiliation', 'Religious affiliation', 'A religious or other belief system affiliation: the SNOMED CT UK religions reference set.', refset('999000531000000100')),
  vs('HumanLanguage', 'Human language', 'The language a person uses.', all(communication.humanLanguage)),
  vs('LanguageAbilityMode', 'Language ability mode', 'How a person can communicate in a language.', all(communication.languageAbilityMode)),
  vs('LanguageAbilityProficiency', 'Language ability proficiency', 'How well a person communicates in a language.', all(communication.languageAbilityProficiency)),
  vs('SDSJobRoleName', 'SDS job role name', 'The job role of a member of staff, from the Spine Directory Service.', all(sdsJobRoleName)),
  vs('AdmissionMethod', 'Admission method', 'The method of admission to a hospital provider spell.', all(hospital.admissionMethod)),
  vs('SourceOfAdmission', 'Source of admission', 'Where a patient was admitted from.', all(hospital.sourceOfAdmission)),
  vs('DischargeMethod', 'Discharge method', 'The method of discharge from a hospital provider spell.', all(hospital.dischargeMethod)),
  vs('DischargeDestination', 'Discharge destination', 'Where a patient went at the end of a hospital provider spell.', all(hospital.dischargeDestination)),
  vs('OutcomeOfAttendance', 'Outcome of attendance', 'The outcome of an out-patient attendance.', all(hospital.outcomeOfAttendance)),
  vs('EmergencyCareDischargeStatus', 'Emergency care discharge status', 'The status of a patient on discharge from an emergency care department (SNOMED CT reference set).', refset('999003021000000104')),
  vs('EncounterType', 'Encounter type', 'The kind of an encounter (SNOMED CT).', ecl('<<185316007 OR <<308467007 OR <<185201007')),
  vs('ConditionCategory', 'Condition category', 'The category of a condition.', all(clinical.conditionCategory)),
  vs('ConditionEpisodicity', 'Condition episodicity', 'The episodicity of a condition.', all(clinical.conditionEpisodicity)),
  vs('ConditionCode', 'Condition code', 'A clinical finding, finding with explicit context, or event (SNOMED CT).', ecl('(< 404684003 |Clinical finding| OR < 413350009 |Finding with explicit context| OR < 272379006 |Event|)')),
  vs('BodySite', 'Body site', 'An anatomical or acquired body structure (SNOMED CT).', ecl('(<<442083009 |anatomical or acquired body structure|)')),
  vs('ProcedureCode', 'Procedure code', 'A procedure, or a procedure with explicit context (SNOMED CT). The expression is the release\'s, which lacks an OR.', ecl('(<<71388002 |Procedure|<<129125009 |Procedure with explicit context|)')),
  vs('AllergyCode', 'Allergy code', 'A substance, product or no-known-allergy concept (SNOMED CT), or no information.',
    ecl('(<<105590001 |Substance OR <<373873005 |Pharmaceutical / biologic product| OR <<716186003 |No known allergy| OR 196461000000101 |Transfer-degraded drug allergy| OR 196471000000108 |Transfer-degraded non-drug allergy)'),
    nullFlavors('NI NoInformation')),
  vs('AllergyManifestation', 'Allergy manifestation', 'A clinical finding (SNOMED CT), or un-encoded, asked but unknown, or no information.',
    { system: SNOMED, filters: [{ property: 'concept', op: 'in', value: '404684003' }] },
    nullFlavors(`
      UNC   un-encoded
      ASKU  asked but unknown
      NI    NoInformation`)),
  vs('AllergyExposureRoute', 'Allergy exposure route', 'An e-prescribing route of administration (SNOMED CT reference set).', ecl('^999000051000001100 |ePrescribing route of administration simple reference set|')),
  vs('AllergyVerificationStatus', 'Allergy verification status', 'Whether an allergy is confirmed.', {
    system: 'http://hl7.org/fhir/allergy-verification-status',
    concepts: table(`
      unconfirmed  Unconfirmed
      confirmed    Confirmed`),
  }),
  vs('ReactionEventSeverity', 'Reaction event severity', 'The severity of a reaction as a whole.', {
    system: 'http://hl7.org/fhir/reaction-event-severity',
    concepts: table(`
      mild      Mild
      moderate  Moderate
      severe    Severe`),
  }),
  vs('VaccineCode', 'Vaccine code', 'A vaccine from the dm+d vaccine reference sets (SNOMED CT), or not available, un-encoded, unknown.',
    ...['999000811000001105', '12465201000001105', '999000831000001104', '999000841000001106', '999000821000001101'].map(refset),
    nullFlavors(`
      NAVU  Not available
      UNC   un-encoded
      UNK   unknown`)),
  vs('VaccinationProcedure', 'Vaccination procedure', 'A vaccination procedure (SNOMED CT).', ecl('(<<33879002 OR <<713404003 OR <<955641000000103 OR <<955691000000108 OR <<955701000000108 OR <<957581000000102 OR <<957751000000103 OR <<1066171000000108 OR <<140611000119104 OR <<15483003 OR <<39343008 OR <<34631000 OR <<72093006 OR <<425897001 OR <<8605003 OR <<428502009 OR <<283451000000105 OR <<308753004 OR <<572481000119103 OR <<965851000000105 OR <<761841000 OR <<16300531000119107 OR <<14747002 OR <<283431000000103 OR <<427633002) MINUS (<<304250009 OR <<51116004 OR <<296811004 OR <<294631000 OR <<425457005 OR <<291705006 OR <<417451006 OR <<47988006 OR <<293095001 OR <<601000000100 OR <<123471000119103 OR <<266758009 OR <<223464006 OR <<185324002 OR <<416064006 OR <<428119001 OR <<308433002 OR <<183944003 OR <<408864009 OR <<202111000000106 OR <<708538000 OR <<418019003 OR <<416237000 OR <<400999005 OR <<309370004)')),
  careConnectValueSet('ImmunizationExplanationReason', {
    title: 'Immunization explanation reason',
    description: 'Why a vaccine was given (SNOMED CT).',
    include: [{
      system: SNOMED,
      concepts: table(`
        171279008        Immunization due
        414448007        Identified as high risk for travel
        161096004        Going to travel abroad
        506931000000109  Recent travel to disease affected area
        78648007         At risk for infection
        14679004         Occupation
        134436002        Lifestyle
        398192003        Co-morbid conditions
        443684005        Disease outbreak
        183995001        Patient requested procedure
        444107005        Exposure to communicable disease
        723620004        Requires vaccination`),
    }],
  }, 2),
  vs('MedicationCode', 'Medication code', 'A dm+d medicinal product or pack, actual or virtual, or a virtual therapeutic moiety (SNOMED CT reference sets).', ecl('(^999000541000001108 |National Health Service dictionary of medicines and devices actual medicinal product simple reference set| OR ^999000551000001106 |National Health Service dictionary of medicines and devices actual medicinal product pack simple reference set| OR ^999000561000001109 |National Health Service dictionary of medicines and devices virtual medicinal product simple reference set| OR ^999000571000001104 |National Health Service dictionary of medicines and devices virtual medicinal product pack simple reference set| OR ^999000581000001102 |National Health Service dictionary of medicines and devices virtual therapeutic moiety simple reference set|)')),
  vs('MedicationForm', 'Medication form', 'A dm+d dose form (SNOMED CT reference set).', ecl('^999000781000001107 |NHS dm+d (dictionary of medicines and devices) dose form simple reference set|')),
  vs('MedicationDosageRoute', 'Medication dosage route', 'An e-prescribing route of administration (SNOMED CT reference set).', refset('999000051000001100')),
  vs('MedicationChangeStatus', 'Medication change status', 'The change status of a medication item.', all(clinical.medicationChangeStatus)),
  vs('PrescriptionType', 'Prescription type', 'The type of a prescription.', all(clinical.prescriptionType)),
  vs('CareSettingType', 'Care setting type', 'A correspondence care setting type (SNOMED CT reference set).', refset('999000381000000107')),
  vs('DocumentType', 'Document type', 'A clinical document type (SNOMED CT reference set).', refset('999000391000000109')),
  vs('CompositionSectionCode', 'Composition section code', 'A clinical record heading (SNOMED CT reference set).', ecl('(^999001721000000100 | Clinical record headings simple reference set (foundation metadata concept)|)')),
  vs('ListCode', 'List code', 'The purpose of a list (SNOMED CT).', {
    system: SNOMED,
    concepts: table(`
      887161000000102   Diagnoses
      887171000000109   Procedures
      717711000000103   Problems
      933361000000108   Medications and medical devices
      886921000000105   Allergies and adverse reactions
      1102411000000102  Active medications
      1102191000000100  Discontinued medications
      1103671000000101  Ended allergies`),
  }),
  vs('ListEmptyReasonCode', 'List empty reason', 'Why a list is empty.', all(clinical.listEmptyReasonCode)),
  vs('ListWarningCode', 'List warning code', 'Why a list may be incomplete.', all(clinical.listWarningCode)),
];

