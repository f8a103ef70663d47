import { CONDITIONS, stepAt, type ConditionDef, type ConditionKey } from '../codes/conditions.js';
import type { MedicineKey } from '../codes/medicines.js';
import { PROCEDURES } from '../codes/procedures.js';
import type { Rng } from '../prng.js';
import { ageAt, atAge, DAY, parseDay, YEAR } from '../time.js';
import { recordAllergies } from './allergies.js';
import { newBody, type Body } from './body.js';
import { Chart } from './chart.js';
import { dischargeDocuments } from './discharge.js';
import { acuteEpisodes, clinicVisit, firstContact, hospitalPlace, staff } from './episodes.js';
import { raiseFlags } from './flags.js';
import { immunise } from './immunisations.js';
import { chooseRegimen, prescribe } from './medicines.js';
import type { PatientInfo } from './patient.js';
import type { Res } from './types.js';
import type { World } from './world.js';

/** How far back hospital activity is generated. */
const HISTORY_YEARS = 10;

/**
 * A patient's clinical record, coherent by construction: conditions drawn for their
 * age and sex, medicines that treat them (none the patient is allergic to), clinic
 * follow-up with trending measurements, acute episodes through A&E and admissions,
 * and the routine immunisations, all between birth and death (or the reference date);
 * then, from the finished record, the flags a clinician would raise and the documents
 * of each inpatient stay.
 */
export function generateRecord(rng: Rng, p: PatientInfo, world: World, referenceDate: string): Res[] {
  const chart = new Chart(rng, p, world);
  const windowStart = Math.max(p.birth + DAY, parseDay(referenceDate) - HISTORY_YEARS * YEAR);
  const avoid = recordAllergies(chart);

  const ageNow = ageAt(p.birth, p.end);
  const chosen = new Map<ConditionKey, number>();
  for (const [key, def] of Object.entries(CONDITIONS) as Array<[ConditionKey, ConditionDef]>) {
    if (def.kind !== 'chronic' || (def.sex && def.sex !== p.sex) || ageNow < def.minAge) continue;
    if (def.excludes?.some((k) => chosen.has(k as ConditionKey))) continue;
    if (!rng.chance(stepAt(def.risk, ageNow))) continue;
    const onsetAge = rng.float(def.minAge, Math.max(def.minAge, Math.min(ageNow, def.maxAge ?? ageNow)));
    chosen.set(key, Math.min(atAge(p.birth, onsetAge), p.end - DAY));
  }
  const body = newBody(rng, p, new Set(chosen.keys()));
  for (const [k, t] of chosen) body.onset.set(k, t);

  const ordered = [...chosen].sort((a, b) => a[1] - b[1]);
  for (const [key, onset] of ordered) chronic(chart, body, key, CONDITIONS[key], onset, windowStart, avoid);
  acuteEpisodes(chart, body, windowStart, avoid);
  if (chart.encounters === 0) firstContact(chart, body, windowStart);
  immunise(chart);
  raiseFlags(chart);
  dischargeDocuments(chart);
  return chart.out;
}

function chronic(chart: Chart, body: Body, key: ConditionKey, def: ConditionDef, onset: number, windowStart: number, avoid: Set<MedicineKey>): void {
  const { rng, p, world } = chart;
  const consultant = def.clinic ? staff(chart, def.clinic) : undefined;
  const condition = chart.condition(def, onset, consultant ?? p.gp);
  const regimen = chooseRegimen(rng, def, avoid);
  if (regimen) {
    const start = onset + rng.int(7, 90) * DAY;
    if (start <= p.end) {
      body.treatedFrom.set(key, start);
      for (const medicine of regimen) {
        prescribe(chart, { medicine, reason: condition, start, prescriber: consultant ?? p.gp, organisation: consultant ? world.trust : p.practice.org });
      }
    }
  }
  if (!def.clinic || !consultant) return;
  const referral = onset + rng.int(14, 180) * DAY;
  if (referral > p.end) return;
  const episode = chart.episode(referral, undefined, consultant, def.clinic, condition);
  const place = hospitalPlace(world, def.clinic);
  let visit = Math.max(referral, windowStart) + rng.int(0, 60) * DAY;
  const inpatient = (def.procedures ?? []).filter((k) => PROCEDURES[k].setting === 'inpatient');
  const clinicProcedures = (def.procedures ?? []).filter((k) => PROCEDURES[k].setting !== 'inpatient');
  for (let n = 0; n < 8 && visit <= p.end; n++) {
    const encounter = clinicVisit(chart, body, def, condition, episode, consultant, place, visit, n === 0);
    if (encounter && n === 0) {
      for (const k of clinicProcedures) {
        if (PROCEDURES[k].sex && PROCEDURES[k].sex !== p.sex) continue;
        if (rng.chance(0.6)) chart.procedure(PROCEDURES[k], visit + 20 * 60_000, 30, consultant, encounter, condition, place);
      }
    }
    if (encounter && n === 1 && inpatient.length && ageAt(p.birth, visit) >= 40 && rng.chance(0.35)) {
      const proc = rng.pick(inpatient);
      const admit = visit + rng.int(30, 120) * DAY;
      const stay = rng.int(2, 5) * DAY;
      if (admit + stay <= p.end) {
        const stayEnc = chart.encounter('IMP', admit, admit + stay, episode, consultant, place, undefined, condition);
        chart.procedure(PROCEDURES[proc], admit + DAY, 120, consultant, stayEnc, condition, place);
      }
    }
    visit += rng.int(180, 365) * DAY;
  }
}
