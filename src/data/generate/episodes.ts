import { CONDITIONS, stepAt, type ConditionDef, type ConditionKey } from '../codes/conditions.js';
import type { MedicineKey } from '../codes/medicines.js';
import { VITALS } from '../codes/observations.js';
import { PROCEDURES } from '../codes/procedures.js';
import { ageAt, DAY, YEAR } from '../time.js';
import { bloodPressureAt, heartRateAt, heightAt, labAt, respiratoryRateAt, saturationAt, temperatureAt, weightAt, type Body } from './body.js';
import type { Chart } from './chart.js';
import { chooseRegimen, prescribe } from './medicines.js';
import type { Ref } from './types.js';
import type { World } from './world.js';

/** Infections: fever, raised white cells. */
const INFECTIONS = new Set<ConditionKey>(['pneumonia', 'uti', 'appendicitis', 'otitisMedia', 'bronchitis']);

/** Who takes over an admission for each acute condition. */
const ADMITTING: Partial<Record<ConditionKey, string>> = {
  pneumonia: 'Respiratory medicine', appendicitis: 'General surgery', hipFracture: 'Trauma and orthopaedics',
  myocardialInfarction: 'Cardiology', stroke: 'Neurology', pregnancy: 'Obstetrics',
};

/** A consultant of the specialty, chosen at random. */
export function staff(chart: Chart, specialty: string): Ref {
  const list = chart.world.clinicians.get(specialty) ?? chart.world.clinicians.get('General medicine')!;
  return chart.rng.pick(list);
}

/** The ward of a specialty (or the first site). */
export function hospitalPlace(world: World, specialty: string): Ref {
  for (const site of world.sites) for (const ward of site.wards) if (ward.specialty === specialty) return ward;
  return world.sites[0]!.location;
}

/** Working hours on the day of t (09:00-16:59). */
function daytime(chart: Chart, t: number): number {
  return Math.floor(t / DAY) * DAY + chart.rng.int(9 * 60, 16 * 60 + 59) * 60_000;
}

/** Heart rate, blood pressure, weight (height and BMI at a first visit or for children). */
function routineVitals(chart: Chart, body: Body, t: number, encounter: Ref, who: Ref, withHeight: boolean): void {
  const { rng, p } = chart;
  chart.observation(VITALS.heartRate, heartRateAt(rng, body, p, t, false), t, encounter, who);
  const [s, d] = bloodPressureAt(rng, body, p, t);
  chart.bloodPressure(s, d, t, encounter, who);
  const weight = weightAt(rng, body, p, t);
  chart.observation(VITALS.weight, weight, t, encounter, who);
  if (withHeight || ageAt(p.birth, t) < 18) {
    const h = heightAt(body, p, t);
    chart.observation(VITALS.height, h, t, encounter, who);
    chart.observation(VITALS.bmi, weight / ((h / 100) * (h / 100)), t, encounter, who);
  }
}

/** An outpatient appointment at a clinic, with measurements and the condition's tests. */
export function clinicVisit(chart: Chart, body: Body, def: ConditionDef, condition: Ref, episode: Ref, who: Ref, where: Ref, day: number, first: boolean): Ref | undefined {
  const start = daytime(chart, day);
  const end = start + chart.rng.int(20, 60) * 60_000;
  if (!chart.inLife(start) || end > chart.p.end) return undefined;
  const encounter = chart.encounter('AMB', start, end, episode, who, where, def, condition);
  routineVitals(chart, body, start + 5 * 60_000, encounter, who, first);
  const labs = new Set(def.labs ?? []);
  // Problems looked after by the GP have their tests done at hospital visits too.
  if (body.has('hypertension')) ['creatinine', 'egfr'].forEach((l) => labs.add(l as never));
  if (body.has('hyperlipidaemia')) labs.add('cholesterol');
  chart.labs([...labs].map((lab) => [lab, labAt(chart.rng, body, chart.p, lab, start)] as const), start + 10 * 60_000, encounter, who);
  return encounter;
}

/** A&E attendances (and admissions) for acute conditions over the history window. */
export function acuteEpisodes(chart: Chart, body: Body, windowStart: number, avoid: Set<MedicineKey>): void {
  const { rng, p } = chart;
  for (const [key, def] of Object.entries(CONDITIONS) as Array<[ConditionKey, ConditionDef]>) {
    if (def.kind !== 'acute' || (def.sex && def.sex !== p.sex)) continue;
    let count = 0;
    for (let year = windowStart; year < p.end && count < 3; year += YEAR) {
      const t = year + rng.float(0, YEAR);
      const age = ageAt(p.birth, t);
      if (t > p.end || age < def.minAge || (def.maxAge !== undefined && age > def.maxAge)) continue;
      if (!rng.chance(stepAt(def.risk, age))) continue;
      const done = key === 'pregnancy' ? pregnancy(chart, body, def, t) : attendance(chart, body, key, def, t, avoid);
      if (done) count++;
    }
  }
}

function attendance(chart: Chart, body: Body, key: ConditionKey, def: ConditionDef, t: number, avoid: Set<MedicineKey>): boolean {
  const { rng, p, world } = chart;
  const arrive = Math.floor(t / 60_000) * 60_000;
  const leaveAe = arrive + rng.int(90, 360) * 60_000;
  const stay = def.admission ? rng.int(def.admission[0], def.admission[1]) * DAY : 0;
  if (!chart.inLife(arrive) || leaveAe + stay > p.end) return false;
  const aeDoctor = staff(chart, 'Emergency medicine');
  const ae = hospitalPlace(world, 'Emergency medicine');
  const episode = chart.episode(arrive, leaveAe + stay, aeDoctor, def.admission ? 'Emergency admission' : 'Emergency department attendance');
  const infection = INFECTIONS.has(key);
  const unwell = infection || key === 'myocardialInfarction' || key === 'stroke' || key === 'hipFracture';
  const onset = arrive - rng.int(60, 3 * 24 * 60) * 60_000;
  const encounter = chart.encounter('EMER', arrive, leaveAe, episode, aeDoctor, ae, def);
  const condition = chart.condition(def, Math.max(onset, p.birth), aeDoctor, {
    encounter,
    ...(key === 'myocardialInfarction' || key === 'stroke' ? {} : { abatement: leaveAe + stay + rng.int(3, 30) * DAY }),
  });
  const seen = arrive + rng.int(10, 40) * 60_000;
  chart.observation(VITALS.temperature, temperatureAt(rng, infection), seen, encounter, aeDoctor);
  chart.observation(VITALS.heartRate, heartRateAt(rng, body, p, seen, unwell), seen, encounter, aeDoctor);
  chart.observation(VITALS.respiratoryRate, respiratoryRateAt(rng, p, seen, unwell), seen, encounter, aeDoctor);
  chart.observation(VITALS.oxygenSaturation, saturationAt(rng, body, seen, key === 'pneumonia'), seen, encounter, aeDoctor);
  const [s, d] = bloodPressureAt(rng, body, p, seen);
  chart.bloodPressure(s, d, seen, encounter, aeDoctor);
  chart.labs((def.labs ?? []).map((lab) => [lab, labAt(rng, body, p, lab, seen, infection)] as const), seen + 15 * 60_000, encounter, aeDoctor);
  for (const k of def.procedures ?? []) {
    if (PROCEDURES[k].setting === 'emergency') chart.procedure(PROCEDURES[k], seen + 30 * 60_000, 15, aeDoctor, encounter, condition, ae);
  }
  let prescriber = aeDoctor;
  let prescribedAt = encounter;
  if (def.admission) {
    const specialty = ADMITTING[key] ?? 'General medicine';
    const consultant = staff(chart, specialty);
    const ward = hospitalPlace(world, specialty);
    const admission = chart.encounter('IMP', leaveAe, leaveAe + stay, episode, consultant, ward, def, condition);
    for (const k of def.procedures ?? []) {
      if (PROCEDURES[k].setting === 'inpatient') chart.procedure(PROCEDURES[k], leaveAe + rng.int(2, 20) * 3_600_000, 90, consultant, admission, condition, ward);
    }
    const next = leaveAe + Math.min(stay, DAY) / 2;
    chart.observation(VITALS.heartRate, heartRateAt(rng, body, p, next, false), next, admission, consultant);
    chart.observation(VITALS.temperature, temperatureAt(rng, false), next, admission, consultant);
    prescriber = consultant;
    prescribedAt = admission;
  }
  const regimen = chooseRegimen(rng, def, avoid);
  if (regimen) {
    if (key === 'myocardialInfarction' || key === 'stroke') body.treatedFrom.set(key, leaveAe);
    for (const medicine of regimen) {
      prescribe(chart, { medicine, reason: condition, start: leaveAe, prescriber, organisation: world.trust, encounter: prescribedAt });
    }
  }
  return true;
}

/** Antenatal clinic visits, then the delivery admission. */
function pregnancy(chart: Chart, body: Body, def: ConditionDef, conception: number): boolean {
  const { rng, p, world } = chart;
  const delivery = conception + rng.int(259, 287) * DAY;
  if (!chart.inLife(conception) || delivery + 3 * DAY > p.end) return false;
  const midwife = staff(chart, 'Obstetrics');
  const ward = hospitalPlace(world, 'Obstetrics');
  const episode = chart.episode(conception + 56 * DAY, delivery + 3 * DAY, midwife, 'Maternity care');
  const condition = chart.condition(def, conception, midwife, { abatement: delivery });
  for (const week of [12, 20, 36]) {
    clinicVisit(chart, body, def, condition, episode, midwife, ward, conception + week * 7 * DAY, week === 12);
  }
  const admit = delivery - rng.int(2, 12) * 3_600_000;
  const stay = chart.encounter('IMP', admit, delivery + rng.int(1, 3) * DAY, episode, midwife, ward, def, condition);
  if (rng.chance(0.25)) chart.procedure(PROCEDURES.caesarean, delivery - 3_600_000, 60, midwife, stay, condition, ward);
  return true;
}

/** Everyone on the trust's system has been seen at least once: an A&E visit for a minor injury. */
export function firstContact(chart: Chart, body: Body, windowStart: number): void {
  const { rng, p } = chart;
  const def = CONDITIONS.ankleSprain;
  for (let i = 0; i < 20; i++) {
    const t = Math.max(windowStart, p.birth + DAY) + rng.float(0, Math.max(DAY, p.end - Math.max(windowStart, p.birth + DAY) - DAY));
    if (attendance(chart, body, ageAt(p.birth, t) >= def.minAge ? 'ankleSprain' : 'bronchitis', ageAt(p.birth, t) >= def.minAge ? def : CONDITIONS.bronchitis, t, new Set())) return;
  }
}
