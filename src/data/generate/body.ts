import type { Rng } from '../prng.js';
import { ageAt, YEAR } from '../time.js';
import type { PatientInfo } from './patient.js';

/**
 * A patient's physiology: stable baselines drawn once, and the measurements an
 * encounter records, shaped by age, conditions and treatment so that values are
 * plausible and trend (blood pressure and HbA1c fall once treated, eGFR declines
 * in kidney disease, weight drifts).
 */
export interface Body {
  adultHeight: number;
  bmi: number;
  systolic: number;
  heartRate: number;
  has: (key: string) => boolean;
  /** When treatment of a condition started (epoch ms), if it is treated. */
  treatedFrom: Map<string, number>;
  /** When each condition started. */
  onset: Map<string, number>;
}

export function newBody(rng: Rng, p: PatientInfo, conditions: Set<string>): Body {
  const obese = conditions.has('obesity');
  return {
    adultHeight: rng.normal(p.sex === 'male' ? 176 : 163, 6.5),
    bmi: obese ? rng.float(30.5, 40) : rng.float(19.5, 29.5),
    systolic: rng.normal(conditions.has('hypertension') ? 156 : 122, 8),
    heartRate: rng.normal(72, 7),
    has: (key) => conditions.has(key),
    treatedFrom: new Map(),
    onset: new Map(),
  };
}

function ageYears(p: PatientInfo, t: number): number {
  return Math.max(0, (t - p.birth) / YEAR);
}

export function heightAt(b: Body, p: PatientInfo, t: number): number {
  const age = ageYears(p, t);
  if (age >= 18) return b.adultHeight;
  const k = (1 - Math.exp(-age / 5.5)) / (1 - Math.exp(-18 / 5.5));
  return 50 + (b.adultHeight - 50) * k;
}

export function weightAt(rng: Rng, b: Body, p: PatientInfo, t: number): number {
  const age = ageYears(p, t);
  const h = heightAt(b, p, t) / 100;
  const bmi = age < 2 ? 16.5 : age < 18 ? 15.5 + (b.bmi - 15.5) * (age / 18) : b.bmi + Math.sin(t / (3 * YEAR)) * 0.8;
  return Math.max(2.5, bmi * h * h + rng.normal(0, 0.4));
}

/** Years a treatment has been working at instant t (0 before it started). */
function treatedYears(b: Body, key: string, t: number): number {
  const from = b.treatedFrom.get(key);
  return from === undefined || t < from ? 0 : (t - from) / YEAR;
}

export function bloodPressureAt(rng: Rng, b: Body, p: PatientInfo, t: number): [number, number] {
  const age = ageAt(p.birth, t);
  if (age < 16) {
    const s = 95 + age * 1.5 + rng.normal(0, 5);
    return [s, s * 0.6 + rng.normal(0, 3)];
  }
  let s = b.systolic + (age - 40) * 0.3;
  if (b.has('hypertension')) s -= Math.min(18, treatedYears(b, 'hypertension', t) * 12);
  s += rng.normal(0, 6);
  return [s, s * 0.62 + rng.normal(0, 4)];
}

export function heartRateAt(rng: Rng, b: Body, p: PatientInfo, t: number, acute: boolean): number {
  const age = ageAt(p.birth, t);
  const base = age < 2 ? 125 : age < 12 ? 95 : b.heartRate;
  const af = b.has('atrialFibrillation') && (b.onset.get('atrialFibrillation') ?? Infinity) <= t ? rng.float(5, 25) : 0;
  return base + af + (acute ? rng.float(8, 25) : 0) + rng.normal(0, 4);
}

export function temperatureAt(rng: Rng, infection: boolean): number {
  return infection ? rng.normal(38.3, 0.4) : rng.normal(36.7, 0.25);
}

export function respiratoryRateAt(rng: Rng, p: PatientInfo, t: number, unwell: boolean): number {
  const age = ageAt(p.birth, t);
  const base = age < 2 ? 34 : age < 12 ? 22 : 15;
  return base + (unwell ? rng.float(5, 10) : 0) + rng.normal(0, 1.5);
}

export function saturationAt(rng: Rng, b: Body, t: number, unwell: boolean): number {
  const copd = b.has('copd') && (b.onset.get('copd') ?? Infinity) <= t;
  const v = (copd ? 93 : 97.5) - (unwell ? rng.float(2, 6) : 0) + rng.normal(0, 1);
  return Math.min(100, v);
}

/** A laboratory value for the patient at instant t. */
export function labAt(rng: Rng, b: Body, p: PatientInfo, key: string, t: number, acuteInfection = false): number {
  const since = (k: string) => ((b.onset.get(k) ?? Infinity) <= t ? (t - b.onset.get(k)!) / YEAR : -1);
  switch (key) {
    case 'hba1c': {
      if (since('diabetes2') >= 0) return Math.max(46, 74 - Math.min(20, treatedYears(b, 'diabetes2', t) * 10) + rng.normal(0, 4));
      if (since('prediabetes') >= 0) return rng.float(42, 47);
      return rng.normal(36, 2.5);
    }
    case 'egfr': {
      const ckd = since('ckd');
      if (ckd >= 0) return Math.max(8, 52 - ckd * 4 + rng.normal(0, 3));
      return Math.min(120, 105 - Math.max(0, ageAt(p.birth, t) - 40) * 0.6 + rng.normal(0, 5));
    }
    case 'creatinine': {
      const egfr = labAt(rng, b, p, 'egfr', t);
      return (p.sex === 'male' ? 88 : 70) * Math.pow(90 / Math.max(egfr, 8), 0.87) + rng.normal(0, 4);
    }
    case 'haemoglobin': {
      const anaemic = since('ckd') >= 0 || since('crohns') >= 0 || since('rheumatoidArthritis') >= 0;
      return (p.sex === 'male' ? 148 : 134) - (anaemic ? 22 : 0) + rng.normal(0, 7);
    }
    case 'whiteCells':
      return acuteInfection ? rng.normal(14.5, 2.5) : rng.normal(7, 1.3);
    case 'cholesterol': {
      const high = since('hyperlipidaemia') >= 0 ? 6.6 : 5.1;
      const statin = Math.max(treatedYears(b, 'hyperlipidaemia', t), treatedYears(b, 'diabetes2', t), treatedYears(b, 'coronaryDisease', t), treatedYears(b, 'myocardialInfarction', t), treatedYears(b, 'stroke', t));
      return Math.max(2.8, high - Math.min(1.9, statin * 1.2) + rng.normal(0, 0.3));
    }
    case 'hdl':
      return Math.max(0.6, rng.normal(p.sex === 'male' ? 1.2 : 1.5, 0.2));
    case 'triglycerides':
      return Math.max(0.4, rng.normal(since('diabetes2') >= 0 ? 2.1 : 1.4, 0.4));
    case 'ldl':
      return Math.max(0.8, labAt(rng, b, p, 'cholesterol', t) - 1.3 - 0.6);
    default:
      return 0;
  }
}
