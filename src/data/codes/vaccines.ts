import type { Concept } from './systems.js';

/**
 * Vaccines of the UK routine schedule as dm+d actual products (SNOMED CT UK Drug
 * Extension, exact dm+d names), with the ages they are given at and the years each
 * product was in use, so a record never holds a product before it existed.
 */
export interface VaccineDose {
  vaccine: Concept;
  /** Age in days when given. */
  ageDays: number;
  route: 'intramuscular' | 'oral';
  /** In use from this date (YYYY-MM-DD) ... */
  from: string;
  /** ... until this date (exclusive), when superseded. */
  until?: string;
}

const V = {
  infanrixHexa: { code: '34765811000001105', display: 'Infanrix Hexa vaccine powder and suspension for suspension for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)' },
  bexsero: { code: '23584211000001109', display: 'Bexsero vaccine suspension for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)' },
  rotarix: { code: '34609911000001106', display: 'Rotarix vaccine live oral suspension 1.5ml tube (GlaxoSmithKline UK Ltd)' },
  prevenar13: { code: '16649411000001104', display: 'Prevenar 13 vaccine suspension for injection 0.5ml pre-filled syringes (Pfizer Ltd)' },
  prevenar20: { code: '40600011000001101', display: 'Prevenar 20 vaccine suspension for injection 0.5ml pre-filled syringes (Pfizer Ltd)' },
  mmrVaxPro: { code: '13968211000001108', display: 'M-M-RVAXPRO vaccine powder and solvent for suspension for injection 0.5ml pre-filled syringes (Merck Sharp & Dohme (UK) Ltd)' },
  priorix: { code: '34925111000001104', display: 'Priorix vaccine powder and solvent for solution for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)' },
  boostrixIpv: { code: '26267211000001100', display: 'Boostrix-IPV suspension for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)' },
  gardasil: { code: '10880211000001104', display: 'Gardasil vaccine suspension for injection 0.5ml pre-filled syringes (Merck Sharp & Dohme (UK) Ltd)' },
  gardasil9: { code: '33493111000001108', display: 'Gardasil 9 vaccine suspension for injection 0.5ml pre-filled syringes (Merck Sharp & Dohme (UK) Ltd)' },
  nimenrix: { code: '20517811000001104', display: 'Nimenrix vaccine powder and solvent for solution for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)' },
  fluQuadrivalent: { code: '34680411000001107', display: 'Quadrivalent influenza vaccine (split virion, inactivated) suspension for injection 0.5ml pre-filled syringes (Sanofi Pasteur)' },
  shingrix: { code: '39655511000001105', display: 'Shingrix (Herpes Zoster) adjuvanted recombinant vaccine powder and suspension for suspension for injection 0.5ml vials (GlaxoSmithKline UK Ltd)' },
} satisfies Record<string, Concept>;

export const VACCINES = V;

const WEEK = 7;
const YEAR = 365;

/** Childhood and adolescent doses, by age. */
export const CHILDHOOD_SCHEDULE: readonly VaccineDose[] = [
  { vaccine: V.infanrixHexa, ageDays: 8 * WEEK, route: 'intramuscular', from: '2017-09-01' },
  { vaccine: V.infanrixHexa, ageDays: 12 * WEEK, route: 'intramuscular', from: '2017-09-01' },
  { vaccine: V.infanrixHexa, ageDays: 16 * WEEK, route: 'intramuscular', from: '2017-09-01' },
  { vaccine: V.rotarix, ageDays: 8 * WEEK, route: 'oral', from: '2013-07-01' },
  { vaccine: V.rotarix, ageDays: 12 * WEEK, route: 'oral', from: '2013-07-01' },
  { vaccine: V.bexsero, ageDays: 8 * WEEK, route: 'intramuscular', from: '2015-09-01' },
  { vaccine: V.bexsero, ageDays: 16 * WEEK, route: 'intramuscular', from: '2015-09-01' },
  { vaccine: V.bexsero, ageDays: YEAR, route: 'intramuscular', from: '2015-09-01' },
  { vaccine: V.prevenar13, ageDays: 12 * WEEK, route: 'intramuscular', from: '2010-04-01' },
  { vaccine: V.prevenar13, ageDays: YEAR, route: 'intramuscular', from: '2010-04-01' },
  { vaccine: V.priorix, ageDays: YEAR, route: 'intramuscular', from: '1998-01-01', until: '2008-01-01' },
  { vaccine: V.mmrVaxPro, ageDays: YEAR, route: 'intramuscular', from: '2008-01-01' },
  { vaccine: V.priorix, ageDays: 3 * YEAR + 120, route: 'intramuscular', from: '1998-01-01', until: '2008-01-01' },
  { vaccine: V.mmrVaxPro, ageDays: 3 * YEAR + 120, route: 'intramuscular', from: '2008-01-01' },
  { vaccine: V.boostrixIpv, ageDays: 3 * YEAR + 120, route: 'intramuscular', from: '2014-01-01' },
  { vaccine: V.gardasil, ageDays: 12 * YEAR + 180, route: 'intramuscular', from: '2012-09-01', until: '2019-09-01' },
  { vaccine: V.gardasil9, ageDays: 12 * YEAR + 180, route: 'intramuscular', from: '2019-09-01' },
  { vaccine: V.nimenrix, ageDays: 14 * YEAR + 180, route: 'intramuscular', from: '2015-08-01' },
];

/** HPV was offered to girls only until September 2019. */
export const HPV_BOYS_FROM = '2019-09-01';

/** Adult programmes: pneumococcal at 65, shingles at 70, influenza every autumn from 65. */
export const ADULT = {
  pneumococcal: { vaccine: V.prevenar20, age: 65, from: '2023-09-01' },
  shingles: { vaccine: V.shingrix, age: 70, from: '2023-09-01' },
  flu: { vaccine: V.fluQuadrivalent, age: 65, from: '2018-09-01' },
} as const;

/** Routes and sites of administration (SNOMED CT). */
export const SITES = {
  leftUpperArm: { code: '368208006', display: 'Left upper arm structure' },
  rightUpperArm: { code: '368209003', display: 'Right upper arm structure' },
  leftThigh: { code: '61396006', display: 'Left thigh structure' },
} satisfies Record<string, Concept>;
