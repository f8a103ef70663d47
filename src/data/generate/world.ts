import { SDS_JOB_ROLES } from '../codes/careconnect.js';
import { DOSE_FORMS, MEDICINES, type Medicine } from '../codes/medicines.js';
import { CLINICAL_SPECIALTIES, FAMILY, FEMALE_GIVEN, LEEDS_DISTRICTS, MALE_GIVEN, PRACTICE_NAMES, STREETS } from '../codes/names.js';
import { codeSystem, GMC, GMP, ODS_ORGANISATION, ODS_SITE, SDS_ROLE_PROFILE, SDS_USER, type Concept } from '../codes/systems.js';
import type { Rng } from '../prng.js';
import { dramaPhone, resource, sct } from './build.js';
import { postcode } from './places.js';
import { reference, type Ids, type Ref, type Res } from './types.js';

/**
 * The care setting: one acute trust (Leeds Teaching Hospitals, ODS RR8) with its
 * sites and wards, its clinicians by specialty, and the GP practices around it
 * with their GPs. Everything a patient's record refers to is made here.
 */
export interface Practice {
  org: Ref;
  gps: Ref[];
}

export interface Site {
  location: Ref;
  wards: Array<Ref & { specialty: string }>;
}

export interface World {
  trust: Ref;
  sites: Site[];
  practices: Practice[];
  /** Consultants by specialty. */
  clinicians: Map<string, Ref[]>;
  medicines: Map<string, Ref>;
  resources: Res[];
}

export const TRUST = { ods: 'RR8', name: 'Leeds Teaching Hospitals NHS Trust' };

/** Two of the trust's hospital sites (illustrative site codes and positions). */
const SITES = [
  { ods: 'RR801', name: 'Leeds General Infirmary', line: 'Great George Street', postcode: 'LS1 3EX', lat: 53.8017, lon: -1.5521 },
  { ods: 'RR813', name: "St James's University Hospital", line: 'Beckett Street', postcode: 'LS9 7TF', lat: 53.8075, lon: -1.5204 },
];

export function buildWorld(rng: Rng, ids: Ids, practiceCount: number): World {
  const out: Res[] = [];
  const trustId = ids.world('org', TRUST.ods);
  const trust: Ref = { type: 'Organization', id: trustId, display: TRUST.name };
  out.push(organisation(trustId, TRUST.ods, TRUST.name, SITES[1]!.line, 'Leeds', SITES[1]!.postcode, dramaPhone('leeds', 0)));

  const sites: Site[] = SITES.map((s, i) => {
    const id = ids.world('loc', s.ods);
    out.push(resource('Location', id, {
      identifier: [{ system: ODS_SITE, value: s.ods }],
      status: 'active', name: s.name, mode: 'instance',
      physicalType: { coding: [{ system: 'http://hl7.org/fhir/location-physical-type', code: 'si', display: 'Site' }] },
      telecom: [{ system: 'phone', value: dramaPhone('leeds', 1 + i), use: 'work' }],
      address: { use: 'work', type: 'both', line: [s.line], city: 'Leeds', postalCode: s.postcode, country: 'GB' },
      position: { longitude: s.lon, latitude: s.lat },
      managingOrganization: reference(trust),
    }));
    const location: Ref = { type: 'Location', id, display: s.name };
    const wards = CLINICAL_SPECIALTIES.filter((_, k) => k % SITES.length === i).map((specialty, k) => {
      const wid = ids.world('loc', `${s.ods}-ward-${k + 1}`);
      const name = `Ward ${i * 20 + k + 1} (${specialty})`;
      out.push(resource('Location', wid, {
        status: 'active', name, mode: 'instance',
        physicalType: { coding: [{ system: 'http://hl7.org/fhir/location-physical-type', code: 'wa', display: 'Ward' }] },
        managingOrganization: reference(trust),
        partOf: reference(location),
      }));
      return { type: 'Location', id: wid, display: name, specialty };
    });
    return { location, wards };
  });

  const clinicians = new Map<string, Ref[]>();
  const usedNumbers = new Set<string>();
  const unique = (make: () => string) => {
    for (;;) {
      const v = make();
      if (!usedNumbers.has(v)) return usedNumbers.add(v), v;
    }
  };
  for (const specialty of CLINICAL_SPECIALTIES) {
    const list: Ref[] = [];
    for (let k = 0; k < 2; k++) {
      const gmc = unique(() => String(rng.int(2_000_000, 7_999_999)));
      const person = practitioner(rng, ids.world('prac', `c${gmc}`), { gmc, sds: unique(() => sdsId(rng)) }, SITES[k % 2]!.line, SITES[k % 2]!.postcode);
      out.push(person.resource);
      const site = sites[k % sites.length]!;
      out.push(role(ids.world('role', `c${gmc}`), person.ref, trust, k === 0 ? SDS_JOB_ROLES.consultant : SDS_JOB_ROLES.associateSpecialist, specialty, site.location, unique(() => sdsId(rng))));
      list.push(person.ref);
    }
    clinicians.set(specialty, list);
  }

  const practices: Practice[] = [];
  for (let i = 0; i < practiceCount; i++) {
    const ods = unique(() => `B86${String(rng.int(1, 999)).padStart(3, '0')}`);
    const [district, locality] = rng.pick(LEEDS_DISTRICTS);
    const name = `${locality} ${rng.pick(PRACTICE_NAMES)}`;
    const line = `${rng.int(1, 200)} ${rng.pick(STREETS)}`;
    const pc = postcode(rng, district);
    const orgId = ids.world('org', ods);
    out.push(organisation(orgId, ods, name, line, 'Leeds', pc, dramaPhone('leeds', 100 + i)));
    const org: Ref = { type: 'Organization', id: orgId, display: name };
    const gps: Ref[] = [];
    const n = rng.int(2, 5);
    for (let k = 0; k < n; k++) {
      const gmp = unique(() => `G${rng.int(8_000_000, 8_999_999)}`);
      const gmc = unique(() => String(rng.int(2_000_000, 7_999_999)));
      const person = practitioner(rng, ids.world('prac', gmp), { gmp, gmc, sds: unique(() => sdsId(rng)) }, line, pc);
      out.push(person.resource);
      out.push(role(ids.world('role', gmp), person.ref, org, k === 0 ? SDS_JOB_ROLES.gp : rng.pick([SDS_JOB_ROLES.gp, SDS_JOB_ROLES.salariedGp]), 'General practice', undefined, unique(() => sdsId(rng))));
      gps.push(person.ref);
    }
    practices.push({ org, gps });
  }

  const medicines = new Map<string, Ref>();
  for (const [key, med] of Object.entries(MEDICINES) as Array<[string, Medicine]>) {
    const id = ids.world('med', med.code);
    out.push(medication(id, med));
    medicines.set(key, { type: 'Medication', id, display: med.display });
  }
  return { trust, sites, practices, clinicians, medicines, resources: out };
}

/** A 12-digit SDS user or role profile id. */
function sdsId(rng: Rng): string {
  return `${rng.int(1, 9)}${String(rng.int(0, 99_999_999_999)).padStart(11, '0')}`;
}

export function organisation(id: string, ods: string, name: string, line: string, city: string, postalCode: string, phone: string): Res {
  return resource('Organization', id, {
    identifier: [{ system: ODS_ORGANISATION, value: ods }],
    active: true,
    name,
    telecom: [{ system: 'phone', value: phone, use: 'work' }],
    address: [{ use: 'work', type: 'both', line: [line], city, postalCode, country: 'GB' }],
  });
}

export function medication(id: string, med: Medicine): Res {
  const form = DOSE_FORMS[med.form];
  return resource('Medication', id, { code: sct(med), ...(form ? { form: sct(form) } : {}) });
}

interface Numbers {
  gmp?: string;
  gmc: string;
  sds: string;
}

function practitioner(rng: Rng, id: string, n: Numbers, line: string, postalCode: string): { resource: Res; ref: Ref } {
  const female = rng.chance(0.5);
  const given = rng.pick(female ? FEMALE_GIVEN : MALE_GIVEN);
  const family = rng.pick(FAMILY);
  const identifier = [
    { system: SDS_USER, value: n.sds },
    ...(n.gmp ? [{ system: GMP, value: n.gmp }] : []),
    { system: GMC, value: n.gmc },
  ];
  return {
    resource: resource('Practitioner', id, {
      identifier,
      active: true,
      name: [{ use: 'usual', family, given: [given], prefix: ['Dr'] }],
      telecom: [{ system: 'phone', value: dramaPhone('leeds', rng.int(200, 999)), use: 'work' }],
      address: [{ use: 'work', line: [line], city: 'Leeds', postalCode, country: 'GB' }],
      gender: female ? 'female' : 'male',
    }),
    ref: { type: 'Practitioner', id, display: `Dr ${given} ${family}` },
  };
}

function role(id: string, who: Ref, org: Ref, job: Concept, specialty: string, location: Ref | undefined, roleProfile: string): Res {
  return resource('PractitionerRole', id, {
    identifier: [{ system: SDS_ROLE_PROFILE, value: roleProfile }],
    active: true,
    practitioner: reference(who),
    organization: reference(org),
    code: [{ coding: [{ system: codeSystem('SDSJobRoleName'), code: job.code, display: job.display }] }],
    specialty: [{ text: specialty }],
    ...(location ? { location: [reference(location)] } : {}),
  });
}
