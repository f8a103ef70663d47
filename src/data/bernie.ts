import { ALLERGIES } from './codes/allergies.js';
import { ETHNIC_CATEGORIES, NHS_NUMBER_VERIFIED, SDS_JOB_ROLES } from './codes/careconnect.js';
import { CONDITIONS } from './codes/conditions.js';
import { MEDICINES } from './codes/medicines.js';
import { VITALS } from './codes/observations.js';
import { PROCEDURES } from './codes/procedures.js';
import { codeSystem, extension, LOCAL_PATIENT_ID, NHS_NUMBER, SNOMED } from './codes/systems.js';
import { VACCINES } from './codes/vaccines.js';
import { resource, sct } from './generate/build.js';
import { Chart } from './generate/chart.js';
import { dischargeDocuments } from './generate/discharge.js';
import { raiseFlags } from './generate/flags.js';
import { prescribe } from './generate/medicines.js';
import { reference, type Ids, type Ref, type Res } from './generate/types.js';
import type { World } from './generate/world.js';
import { Rng } from './prng.js';
import { DAY, fhirDateTime, parseDay } from './time.js';

export interface Places {
  moir: Ref;
  derby: Ref;
  clinic: Ref;
  gp: Ref;
  consultant: Ref;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The Binary id of the API documentation's Binary example: Bernie's discharge letter. */
export const BERNIE_LETTER = '5b1e91f0ccf84d0001fffe6d';

/**
 * Patient/1, Bernie Kanfeld, and her record: asthma since childhood with a reliever and
 * (later) a preventer inhaler, grass pollen allergy, MMR; in February 2011, aged 12, an
 * admission through A&E with pneumonia to the Royal Derby Hospital's children's ward,
 * where amoxicillin brought out urticaria (a penicillin allergy, flagged since) and her
 * mother's asthma was noted; the discharge documents of that stay; and a respiratory
 * clinic visit in 2025. The 2010-2011 events answer the API documentation's date
 * searches for patient 1.
 */
export function bernie(ids: Ids, at: Places): Res[] {
  const hospital: Ref = { type: 'Location', id: '2', display: 'Royal Derby Hospital' };
  const ward: Ref = { type: 'Location', id: '3', display: "Children's ward, Royal Derby Hospital" };
  const paediatrician: Ref = { type: 'Practitioner', id: '3', display: 'Dr Helen Marsden' };
  const places: Res[] = [
    resource('Location', '2', {
      status: 'active', name: hospital.display, mode: 'instance',
      physicalType: { coding: [{ system: 'http://hl7.org/fhir/location-physical-type', code: 'si', display: 'Site' }] },
      address: { use: 'work', type: 'both', line: ['Uttoxeter Road'], city: 'Derby', postalCode: 'DE22 3NE', country: 'GB' },
      managingOrganization: reference(at.derby),
    }),
    resource('Location', '3', {
      status: 'active', name: ward.display, mode: 'instance',
      physicalType: { coding: [{ system: 'http://hl7.org/fhir/location-physical-type', code: 'wa', display: 'Ward' }] },
      managingOrganization: reference(at.derby),
      partOf: reference(hospital),
    }),
    resource('Practitioner', '3', { active: true, name: [{ use: 'usual', family: 'Marsden', given: ['Helen'], prefix: ['Dr'] }], gender: 'female' }),
    resource('PractitionerRole', '3', {
      active: true,
      practitioner: reference(paediatrician),
      organization: reference(at.derby),
      code: [{ coding: [{ system: codeSystem('SDSJobRoleName'), code: SDS_JOB_ROLES.consultant.code, display: SDS_JOB_ROLES.consultant.display }] }],
      specialty: [{ text: 'Paediatric respiratory medicine' }],
      location: [reference(hospital)],
    }),
  ];
  const patient = resource('Patient', '1', {
    extension: [{ url: extension('EthnicCategory'), valueCodeableConcept: { coding: [{ system: codeSystem('EthnicCategory'), code: ETHNIC_CATEGORIES[0]![0].code, display: ETHNIC_CATEGORIES[0]![0].display }] } }],
    identifier: [
      {
        extension: [{ url: extension('NHSNumberVerificationStatus'), valueCodeableConcept: { coding: [{ system: codeSystem('NHSNumberVerificationStatus'), code: NHS_NUMBER_VERIFIED.code, display: NHS_NUMBER_VERIFIED.display }] } }],
        system: NHS_NUMBER,
        value: '9876543210',
      },
      { system: LOCAL_PATIENT_ID, value: 'RTG8650149' },
    ],
    active: true,
    name: [{ use: 'official', text: 'Bernie Kanfeld', family: 'Kanfeld', given: ['Bernie'], prefix: ['Miss'] }],
    telecom: [
      { system: 'phone', value: '07999123456', use: 'mobile' },
      { system: 'email', value: 'bernie.kanfeld@chumhum.com', use: 'home' },
    ],
    gender: 'female',
    birthDate: '1998-03-19',
    address: [{ use: 'home', type: 'both', line: ['Field Jardin', 'Long Eaton'], city: 'Nottingham', district: 'Derbyshire', postalCode: 'NG10 1ZZ', country: 'GB' }],
    maritalStatus: { coding: [{ system: 'http://hl7.org/fhir/v3/MaritalStatus', code: 'S', display: 'Never Married' }] },
    generalPractitioner: [reference(at.moir), reference(at.gp)],
    managingOrganization: reference(at.moir),
  });
  const world: World = {
    trust: at.derby,
    sites: [{ location: at.clinic, wards: [] }],
    practices: [{ org: at.moir, gps: [at.gp] }],
    clinicians: new Map([['Respiratory medicine', [at.consultant]], ['Paediatric respiratory medicine', [paediatrician]]]),
    medicines: new Map([
      ['salbutamol', { type: 'Medication', id: '1', display: 'Salbutamol inhaler' }],
      ['clenil100', { type: 'Medication', id: ids.world('med', MEDICINES.clenil100.code), display: MEDICINES.clenil100.display }],
      ['amoxicillin250', { type: 'Medication', id: ids.world('med', MEDICINES.amoxicillin250.code), display: MEDICINES.amoxicillin250.display }],
    ]),
    resources: [],
  };
  const info = { ref: { type: 'Patient', id: '1', display: 'Bernie Kanfeld' }, sex: 'female' as const, birth: parseDay('1998-03-19'), end: parseDay('2026-01-01'), practice: world.practices[0]!, gp: at.gp, nhsNumber: '9876543210' };
  const chart = new Chart(new Rng(9876543210 % 2 ** 32), info, world);
  const asthma = chart.condition(CONDITIONS.asthma, parseDay('2004-05-10'), at.gp);
  prescribe(chart, { medicine: 'salbutamol', reason: asthma, start: parseDay('2004-05-12'), prescriber: at.gp, organisation: at.moir });
  chart.push(resource('AllergyIntolerance', chart.id('allergy'), {
    clinicalStatus: 'active', verificationStatus: 'confirmed', type: 'allergy', category: ['environment'], criticality: 'low',
    code: sct(ALLERGIES.grassPollen),
    patient: chart.subject, onsetDateTime: '2006-06', assertedDate: fhirDateTime(parseDay('2006-07-03')), recorder: reference(at.gp),
    reaction: [{ manifestation: [{ coding: [{ system: SNOMED, code: '76067001', display: 'Sneezing' }] }], severity: 'mild' }],
  }));
  pneumonia(chart, { hospital, ward, paediatrician });
  prescribe(chart, { medicine: 'clenil100', reason: asthma, start: parseDay('2015-02-02'), prescriber: at.gp, organisation: at.moir });
  const visitStart = parseDay('2025-06-11') + 10 * HOUR;
  const episode = chart.episode(parseDay('2025-05-20'), undefined, at.consultant, 'Respiratory medicine', asthma);
  const visit = chart.encounter('AMB', visitStart, visitStart + 40 * MINUTE, episode, at.consultant, at.clinic, CONDITIONS.asthma, asthma);
  chart.observation(VITALS.heartRate, 74, visitStart + 5 * MINUTE, visit, at.consultant);
  chart.bloodPressure(118, 74, visitStart + 5 * MINUTE, visit, at.consultant);
  chart.observation(VITALS.oxygenSaturation, 98, visitStart + 5 * MINUTE, visit, at.consultant);
  chart.observation(VITALS.weight, 61.2, visitStart + 5 * MINUTE, visit, at.consultant);
  chart.observation(VITALS.height, 166, visitStart + 5 * MINUTE, visit, at.consultant);
  chart.observation(VITALS.bmi, 22.2, visitStart + 5 * MINUTE, visit, at.consultant);
  chart.procedure(PROCEDURES.spirometry, visitStart + 15 * MINUTE, 20, at.consultant, visit, asthma, at.clinic);
  for (const [date, vaccine] of [['1999-03-24', VACCINES.priorix], ['2001-07-30', VACCINES.priorix]] as const) {
    chart.push(resource('Immunization', chart.id('imm'), {
      status: 'completed', notGiven: false, vaccineCode: sct(vaccine), patient: chart.subject,
      date: fhirDateTime(parseDay(date) + 10 * HOUR), primarySource: true, practitioner: [{ actor: reference(at.gp) }],
    }));
  }
  raiseFlags(chart);
  dischargeDocuments(chart, [BERNIE_LETTER]);
  return [...places, patient, ...chart.out];
}

/** February 2011: pneumonia, through A&E to the children's ward for three days. */
function pneumonia(chart: Chart, at: { hospital: Ref; ward: Ref; paediatrician: Ref }): void {
  const doctor = at.paediatrician;
  const arrive = parseDay('2011-02-14') + 19 * HOUR + 20 * MINUTE;
  const leaveAe = arrive + 3 * HOUR + 30 * MINUTE;
  const discharge = parseDay('2011-02-17') + 14 * HOUR;
  const episode = chart.episode(arrive, discharge, doctor, 'Emergency admission');
  const ae = chart.encounter('EMER', arrive, leaveAe, episode, doctor, at.hospital, CONDITIONS.pneumonia);
  const condition = chart.condition(CONDITIONS.pneumonia, arrive - 2 * DAY, doctor, { encounter: ae, abatement: discharge + 14 * DAY });
  const seen = arrive + 20 * MINUTE;
  chart.observation(VITALS.temperature, 38.6, seen, ae, doctor);
  chart.observation(VITALS.heartRate, 118, seen, ae, doctor);
  chart.observation(VITALS.respiratoryRate, 28, seen, ae, doctor);
  chart.observation(VITALS.oxygenSaturation, 93, seen, ae, doctor);
  chart.bloodPressure(108, 66, seen, ae, doctor);
  chart.labs([['haemoglobin', 128], ['whiteCells', 15.8]], seen + 15 * MINUTE, ae, doctor);
  chart.procedure(PROCEDURES.chestXray, seen + 30 * MINUTE, 15, doctor, ae, condition, at.hospital);
  const stay = chart.encounter('IMP', leaveAe, discharge, episode, doctor, at.ward, CONDITIONS.pneumonia, condition);
  const rash = leaveAe + 20 * HOUR;
  prescribe(chart, { medicine: 'amoxicillin250', reason: condition, start: leaveAe, prescriber: doctor, organisation: chart.world.trust, encounter: stay, stopped: rash + 2 * HOUR });
  chart.push(resource('AllergyIntolerance', chart.id('allergy'), {
    clinicalStatus: 'active', verificationStatus: 'confirmed', type: 'allergy', category: ['medication'], criticality: 'low',
    code: sct(ALLERGIES.penicillin),
    patient: chart.subject, onsetDateTime: fhirDateTime(rash), assertedDate: fhirDateTime(rash + 2 * HOUR), recorder: reference(doctor),
    reaction: [{ manifestation: [sct(ALLERGIES.penicillin.reactions[0])], severity: 'moderate' }],
  }));
  chart.push(resource('FamilyMemberHistory', chart.id('fmh'), {
    status: 'completed',
    patient: chart.subject,
    date: fhirDateTime(leaveAe + HOUR),
    relationship: { coding: [{ system: 'http://hl7.org/fhir/v3/RoleCode', code: 'MTH', display: 'mother' }] },
    gender: 'female',
    condition: [{ code: sct(CONDITIONS.asthma) }],
  }));
  const morning = parseDay('2011-02-15') + 8 * HOUR;
  chart.observation(VITALS.heartRate, 96, morning, stay, doctor);
  chart.observation(VITALS.temperature, 37.4, morning, stay, doctor);
  chart.observation(VITALS.oxygenSaturation, 96, morning, stay, doctor);
}
