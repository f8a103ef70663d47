import { ETHNIC_CATEGORIES, MARITAL_STATUS, NHS_NUMBER_VERIFIED } from '../codes/careconnect.js';
import { FAMILY, FEMALE_GIVEN, MALE_GIVEN } from '../codes/names.js';
import { codeSystem, extension, LOCAL_PATIENT_ID, MARITAL, NHS_NUMBER } from '../codes/systems.js';
import type { Rng } from '../prng.js';
import { ageAt, atAge, DAY, fhirDate, fhirDateTime, parseDay, YEAR } from '../time.js';
import { dramaPhone, resource } from './build.js';
import { homeAddress } from './places.js';
import { reference, type Ref, type Res } from './types.js';
import type { Practice } from './world.js';

/** What the record generator needs to know about a patient. */
export interface PatientInfo {
  ref: Ref;
  sex: 'female' | 'male';
  birth: number;
  /** Date of death, when deceased. */
  death?: number;
  /** Last instant anything may happen: death, or the reference date. */
  end: number;
  practice: Practice;
  gp: Ref;
  nhsNumber: string;
}

/** Ages of the population, weighted roughly like England's (0-95). */
const AGE_BANDS: ReadonlyArray<readonly [readonly [number, number], number]> = [
  [[0, 4], 6], [[5, 15], 12], [[16, 24], 11], [[25, 44], 26], [[45, 64], 25], [[65, 79], 14], [[80, 95], 6],
];

/**
 * Facts a patient must have (the documented examples name a patient by family name and
 * date of birth); everything else is drawn, and the record is drawn to fit them.
 */
export interface PatientFacts {
  family?: string;
  /** YYYY-MM-DD. */
  birthDate?: string;
}

/** The Patient resource and its facts. The NHS and hospital numbers are issued by the caller. */
export function buildPatient(rng: Rng, id: string, ref: number, nhsNumber: string, hospitalNumber: string, practice: Practice, facts: PatientFacts = {}): { resource: Res; info: PatientInfo } {
  const sex = rng.chance(0.5) ? 'female' : 'male';
  const [lo, hi] = rng.weighted(AGE_BANDS);
  // Drawn even when a fact replaces it, so that a fact changes nothing else that is drawn.
  const drawnBirth = Math.floor(atAge(ref - rng.int(lo, hi) * YEAR, 0) / DAY) * DAY - rng.int(0, 364) * DAY;
  const birth = facts.birthDate ? parseDay(facts.birthDate) : drawnBirth;
  const age = ageAt(birth, ref);
  const deathRisk = age >= 85 ? 0.25 : age >= 75 ? 0.1 : age >= 60 ? 0.03 : age >= 1 ? 0.005 : 0;
  const death = rng.chance(deathRisk) ? ref - rng.int(30, Math.min(5 * 365, Math.max(31, Math.floor((ref - birth) / DAY) - 1))) * DAY + rng.int(0, 1439) * 60_000 : undefined;
  const end = death ?? ref;
  const given = rng.pick(sex === 'female' ? FEMALE_GIVEN : MALE_GIVEN);
  const middle = rng.chance(0.4) ? rng.pick(sex === 'female' ? FEMALE_GIVEN : MALE_GIVEN) : undefined;
  const drawnFamily = rng.pick(FAMILY);
  const family = facts.family ?? drawnFamily;
  const adultAge = ageAt(birth, end);
  const prefix = adultAge < 16 ? (sex === 'female' ? 'Miss' : 'Master') : sex === 'male' ? 'Mr' : rng.pick(['Mrs', 'Ms', 'Miss']);
  const gp = rng.pick(practice.gps);
  const telecom: Array<Record<string, unknown>> = [{ system: 'phone', value: dramaPhone(rng.chance(0.7) ? 'mobile' : 'leeds', rng.int(0, 999)), use: rng.chance(0.7) ? 'mobile' : 'home' }];
  if (adultAge >= 16 && rng.chance(0.4)) telecom.push({ system: 'email', value: `${given}.${family}${rng.int(1, 99)}@example.com`.toLowerCase().replace(/'/g, ''), use: 'home' });
  const marital = adultAge < 18 ? MARITAL_STATUS.single : rng.weighted([[MARITAL_STATUS.single, 35], [MARITAL_STATUS.married, 45], [MARITAL_STATUS.divorced, 10], [MARITAL_STATUS.widowed, adultAge > 65 ? 20 : 2]]);
  const ethnic = rng.weighted(ETHNIC_CATEGORIES);
  const display = `${given} ${family}`;
  const res = resource('Patient', id, {
    extension: [
      { url: extension('EthnicCategory'), valueCodeableConcept: { coding: [{ system: codeSystem('EthnicCategory'), code: ethnic.code, display: ethnic.display }] } },
    ],
    identifier: [
      {
        extension: [{
          url: extension('NHSNumberVerificationStatus'),
          valueCodeableConcept: { coding: [{ system: codeSystem('NHSNumberVerificationStatus'), code: NHS_NUMBER_VERIFIED.code, display: NHS_NUMBER_VERIFIED.display }] },
        }],
        system: NHS_NUMBER,
        value: nhsNumber,
      },
      { system: LOCAL_PATIENT_ID, value: hospitalNumber },
    ],
    active: true,
    name: [{ use: 'official', family, given: middle ? [given, middle] : [given], prefix: [prefix] }],
    telecom,
    gender: sex,
    birthDate: fhirDate(birth),
    ...(death ? { deceasedDateTime: fhirDateTime(death) } : {}),
    address: [homeAddress(rng)],
    maritalStatus: { coding: [{ system: MARITAL, code: marital.code, display: marital.display }] },
    generalPractitioner: [reference(practice.org), reference(gp)],
    managingOrganization: reference(practice.org),
  });
  const info: PatientInfo = { ref: { type: 'Patient', id, display }, sex, birth, end, practice, gp, nhsNumber };
  if (death) info.death = death;
  return { resource: res, info };
}
