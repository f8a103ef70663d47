import { CONDITIONS } from './codes/conditions.js';
import { MEDICINES } from './codes/medicines.js';
import { VITALS } from './codes/observations.js';
import { PROCEDURES } from './codes/procedures.js';
import { SDS_JOB_ROLES, NHS_NUMBER_VERIFIED, ETHNIC_CATEGORIES } from './codes/careconnect.js';
import { codeSystem, extension, GMP, LOCAL_PATIENT_ID, NHS_NUMBER, ODS_SITE, SDS_USER, SNOMED } from './codes/systems.js';
import { VACCINES } from './codes/vaccines.js';
import { resource } from './generate/build.js';
import { Chart } from './generate/chart.js';
import { prescribe } from './generate/medicines.js';
import { Ids, reference, type Ref, type Res } from './generate/types.js';
import { organisation } from './generate/world.js';
import type { World } from './generate/world.js';
import { Rng } from './prng.js';
import { fhirDateTime, parseDay } from './time.js';

/**
 * The resources the Care Connect API documentation uses in its examples, so that
 * each documented request returns what the documentation describes:
 * - Patient/1, Bernie Kanfeld (NHS number 9876543210, female, born 1998-03-19,
 *   bernie.kanfeld@chumhum.com, 07999123456, NG10 1ZZ; build_patient_search.md and
 *   api_entity_patient.md), registered at Organization/1, Moir Medical Centre (C81010);
 * - Practitioner/1 (GMP G8133438, SDS user 123456, postcode NG10 1QQ) and
 *   PractitionerRole/1 (organization=1, practitioner=1);
 * - Organization RTG, Derby Teaching Hospitals NHS Trust, and its site RTG08,
 *   Long Eaton Clinic (NG10 1RY);
 * - Medication/1 (SNOMED CT 320141001, `Medication?code=320141001`), prescribed to
 *   Bernie (`MedicationRequest?medication=1`).
 * Bernie has a small record of her own (asthma, an inhaler, a clinic visit, MMR).
 */
export function documentedResources(ids: Ids = new Ids('')): Res[] {
  const out: Res[] = [];
  const moir: Ref = { type: 'Organization', id: '1', display: 'Moir Medical Centre' };
  const derby: Ref = { type: 'Organization', id: '2', display: 'Derby Teaching Hospitals NHS Trust' };
  const clinic: Ref = { type: 'Location', id: '1', display: 'Long Eaton Clinic' };
  const gp: Ref = { type: 'Practitioner', id: '1', display: 'Dr Anand Bhatia' };
  const consultant: Ref = { type: 'Practitioner', id: '2', display: 'Dr Ruth Ellis' };
  out.push(organisation('1', 'C81010', 'Moir Medical Centre', 'Regent Street', 'Long Eaton', 'NG10 1QQ', '0115 496 0000'));
  out.push(organisation('2', 'RTG', 'Derby Teaching Hospitals NHS Trust', 'Uttoxeter Road', 'Derby', 'DE22 3NE', '01332 496 000'));
  out.push(resource('Location', '1', {
    identifier: [{ system: ODS_SITE, value: 'RTG08' }],
    status: 'active', name: 'Long Eaton Clinic', mode: 'instance',
    address: { use: 'work', type: 'both', line: ['Midland Street'], city: 'Long Eaton', postalCode: 'NG10 1RY', country: 'GB' },
    managingOrganization: reference(derby),
  }));
  out.push(resource('Practitioner', '1', {
    identifier: [{ system: SDS_USER, value: '123456' }, { system: GMP, value: 'G8133438' }],
    active: true,
    name: [{ use: 'usual', family: 'Bhatia', given: ['Anand'], prefix: ['Dr'] }],
    telecom: [{ system: 'phone', value: '0115 496 0000', use: 'work' }],
    address: [{ use: 'work', line: ['Regent Street'], city: 'Long Eaton', postalCode: 'NG10 1QQ', country: 'GB' }],
    gender: 'male',
  }));
  out.push(resource('PractitionerRole', '1', {
    identifier: [{ system: SDS_USER, value: '123456' }],
    active: true,
    practitioner: reference(gp),
    organization: reference(moir),
    code: [{ coding: [{ system: codeSystem('SDSJobRoleName'), code: SDS_JOB_ROLES.gp.code, display: SDS_JOB_ROLES.gp.display }] }],
  }));
  out.push(resource('Practitioner', '2', {
    identifier: [{ system: SDS_USER, value: '654321' }],
    active: true,
    name: [{ use: 'usual', family: 'Ellis', given: ['Ruth'], prefix: ['Dr'] }],
    gender: 'female',
  }));
  out.push(resource('PractitionerRole', '2', {
    active: true,
    practitioner: reference(consultant),
    organization: reference(derby),
    code: [{ coding: [{ system: codeSystem('SDSJobRoleName'), code: SDS_JOB_ROLES.consultant.code, display: SDS_JOB_ROLES.consultant.display }] }],
    specialty: [{ text: 'Respiratory medicine' }],
    location: [reference(clinic)],
  }));
  // The documentation's Medication example is SNOMED CT 320141001, a salbutamol inhaler of the original's data.
  out.push(resource('Medication', '1', { code: { coding: [{ system: SNOMED, code: '320141001' }], text: 'Salbutamol inhaler' } }));
  out.push(...bernie(ids, { moir, derby, clinic, gp, consultant }));
  return out;
}

interface Places {
  moir: Ref;
  derby: Ref;
  clinic: Ref;
  gp: Ref;
  consultant: Ref;
}

function bernie(ids: Ids, at: Places): Res[] {
  const birth = parseDay('1998-03-19');
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
    clinicians: new Map([['Respiratory medicine', [at.consultant]]]),
    medicines: new Map([
      ['salbutamol', { type: 'Medication', id: '1', display: 'Salbutamol inhaler' }],
      ['clenil100', { type: 'Medication', id: ids.world('med', MEDICINES.clenil100.code), display: MEDICINES.clenil100.display }],
    ]),
    resources: [],
  };
  const chart = new Chart(new Rng(9876543210 % 2 ** 32), { ref: { type: 'Patient', id: '1', display: 'Bernie Kanfeld' }, sex: 'female', birth, end: parseDay('2026-01-01'), practice: world.practices[0]!, gp: at.gp }, world);
  const asthma = chart.condition(CONDITIONS.asthma, parseDay('2004-05-10'), at.gp);
  prescribe(chart, { medicine: 'salbutamol', reason: asthma, start: parseDay('2004-05-12'), prescriber: at.gp, organisation: at.moir });
  prescribe(chart, { medicine: 'clenil100', reason: asthma, start: parseDay('2015-02-02'), prescriber: at.gp, organisation: at.moir });
  const visitStart = parseDay('2025-06-11') + 10 * 3_600_000;
  const episode = chart.episode(parseDay('2025-05-20'), undefined, at.consultant, 'Respiratory medicine', asthma);
  const visit = chart.encounter('AMB', visitStart, visitStart + 40 * 60_000, episode, at.consultant, at.clinic, CONDITIONS.asthma, asthma);
  chart.observation(VITALS.heartRate, 74, visitStart + 300_000, visit, at.consultant);
  chart.bloodPressure(118, 74, visitStart + 300_000, visit, at.consultant);
  chart.observation(VITALS.oxygenSaturation, 98, visitStart + 300_000, visit, at.consultant);
  chart.observation(VITALS.weight, 61.2, visitStart + 300_000, visit, at.consultant);
  chart.observation(VITALS.height, 166, visitStart + 300_000, visit, at.consultant);
  chart.observation(VITALS.bmi, 22.2, visitStart + 300_000, visit, at.consultant);
  chart.procedure(PROCEDURES.spirometry, visitStart + 15 * 60_000, 20, at.consultant, visit, asthma, at.clinic);
  chart.push(resource('AllergyIntolerance', '1-allergy-1', {
    clinicalStatus: 'active', verificationStatus: 'confirmed', type: 'allergy', category: ['environment'], criticality: 'low',
    code: { coding: [{ system: SNOMED, code: '256277009', display: 'Grass pollen' }] },
    patient: chart.subject, onsetDateTime: '2006-06', assertedDate: fhirDateTime(parseDay('2006-07-03')), recorder: reference(at.gp),
    reaction: [{ manifestation: [{ coding: [{ system: SNOMED, code: '76067001', display: 'Sneezing' }] }], severity: 'mild' }],
  }));
  for (const [date, vaccine] of [['1999-03-24', VACCINES.priorix], ['2001-07-30', VACCINES.priorix]] as const) {
    chart.push(resource('Immunization', chart.id('imm'), {
      status: 'completed', notGiven: false, vaccineCode: { coding: [{ system: SNOMED, ...vaccine }] }, patient: chart.subject,
      date: fhirDateTime(parseDay(date) + 10 * 3_600_000), primarySource: true, practitioner: [{ actor: reference(at.gp) }],
    }));
  }
  return [patient, ...chart.out];
}
