import { ROUTES } from '../codes/medicines.js';
import { ADULT, CHILDHOOD_SCHEDULE, HPV_BOYS_FROM, SITES, VACCINES } from '../codes/vaccines.js';
import type { Concept } from '../codes/systems.js';
import { UCUM } from '../codes/systems.js';
import { atAge, DAY, fhirDateTime, parseDay } from '../time.js';
import { resource, sct } from './build.js';
import type { Chart } from './chart.js';
import { reference } from './types.js';

/** Electronic records of immunisations start here. */
const RECORDS_FROM = parseDay('1998-01-01');

/**
 * The UK routine immunisations the patient was due, given at the scheduled age
 * (plus a few days), with the product in use at the time; never before birth,
 * after death or after the reference date.
 */
export function immunise(chart: Chart): void {
  const { p, rng } = chart;
  const given = (vaccine: Concept, at: number, route: 'intramuscular' | 'oral') => {
    if (at < RECORDS_FROM || !chart.inLife(at)) return;
    const site = route === 'oral' ? undefined : rng.pick([SITES.leftUpperArm, SITES.rightUpperArm]);
    chart.push(resource('Immunization', chart.id('imm'), {
      status: 'completed',
      notGiven: false,
      vaccineCode: sct(vaccine),
      patient: chart.subject,
      date: fhirDateTime(at),
      primarySource: true,
      lotNumber: `${String.fromCharCode(65 + rng.int(0, 25))}${String.fromCharCode(65 + rng.int(0, 25))}${rng.int(1000, 9999)}`,
      ...(site ? { site: sct(site) } : {}),
      route: sct(route === 'oral' ? ROUTES.oral : ROUTES.intramuscular),
      doseQuantity: route === 'oral' ? { value: 1.5, unit: 'ml', system: UCUM, code: 'mL' } : { value: 0.5, unit: 'ml', system: UCUM, code: 'mL' },
      practitioner: [{ actor: reference(p.gp) }],
    }));
  };
  for (const dose of CHILDHOOD_SCHEDULE) {
    const at = p.birth + (dose.ageDays + rng.int(0, 14)) * DAY + rng.int(9 * 60, 16 * 60) * 60_000;
    if (at < parseDay(dose.from) || (dose.until && at >= parseDay(dose.until))) continue;
    const hpv = dose.vaccine === VACCINES.gardasil || dose.vaccine === VACCINES.gardasil9;
    if (hpv && p.sex === 'male' && at < parseDay(HPV_BOYS_FROM)) continue;
    given(dose.vaccine, at, dose.route);
  }
  const on = (age: number) => atAge(p.birth, age) + rng.int(0, 120) * DAY + rng.int(9 * 60, 16 * 60) * 60_000;
  const pneumo = on(ADULT.pneumococcal.age);
  if (pneumo >= parseDay(ADULT.pneumococcal.from)) given(ADULT.pneumococcal.vaccine, pneumo, 'intramuscular');
  const shingles = on(ADULT.shingles.age);
  if (shingles >= parseDay(ADULT.shingles.from)) given(ADULT.shingles.vaccine, shingles, 'intramuscular');
  const fluFrom = Math.max(parseDay(ADULT.flu.from), atAge(p.birth, ADULT.flu.age));
  for (let year = new Date(fluFrom).getUTCFullYear(); year <= new Date(p.end).getUTCFullYear(); year++) {
    const at = Date.UTC(year, 8, 15) + rng.int(0, 70) * DAY + rng.int(9 * 60, 16 * 60) * 60_000;
    if (at >= fluFrom && rng.chance(0.8)) given(ADULT.flu.vaccine, at, 'intramuscular');
  }
}
