import type { MedicineKey } from './medicines.js';
import type { ProcedureKey } from './procedures.js';
import type { LabKey } from './observations.js';
import type { Concept } from './systems.js';

/**
 * Conditions: SNOMED CT International Edition concepts with their preferred terms,
 * and what the generator needs to make records coherent: who can have them (sex,
 * age of onset), how common they are, what treats them, what is measured, and
 * where they are managed.
 */
export interface ConditionDef extends Concept {
  /** chronic: a long-term problem; acute: an episode that resolves. */
  kind: 'chronic' | 'acute';
  sex?: 'female' | 'male';
  /** Youngest and oldest age at onset. */
  minAge: number;
  maxAge?: number;
  /** Chronic: probability of having it by current age ([from age, probability] steps). Acute: episodes per year. */
  risk: ReadonlyArray<readonly [number, number]>;
  /** Alternative regimens (one is chosen); each a list of medicines taken together. */
  regimens?: ReadonlyArray<readonly MedicineKey[]>;
  /** The hospital clinic that follows it up (outpatient encounters), when it is hospital-managed. */
  clinic?: string;
  labs?: readonly LabKey[];
  /** Procedures done for it (during an admission for acute conditions, at a clinic otherwise). */
  procedures?: readonly ProcedureKey[];
  /** Acute: attended at A&E only, or admitted (with a length of stay in days). */
  admission?: readonly [number, number];
  /** Conditions a patient with this one does not also get (e.g. prediabetes and diabetes). */
  excludes?: readonly string[];
}

const c = (code: string, display: string, def: Omit<ConditionDef, 'code' | 'display'>): ConditionDef => ({ code, display, ...def });

export const CONDITIONS = {
  hypertension: c('38341003', 'Hypertensive disorder, systemic arterial', {
    kind: 'chronic', minAge: 30, risk: [[30, 0.05], [45, 0.15], [60, 0.35], [75, 0.5]],
    regimens: [['ramipril5'], ['ramipril10', 'amlodipine5'], ['lisinopril5'], ['losartan50'], ['candesartan8'], ['amlodipine5'], ['amlodipine10']],
    labs: ['creatinine', 'egfr'],
  }),
  diabetes2: c('44054006', 'Diabetes mellitus type 2', {
    kind: 'chronic', minAge: 30, risk: [[30, 0.02], [45, 0.06], [60, 0.12], [75, 0.16]],
    regimens: [['metforminMr500', 'atorvastatin20'], ['metformin1g', 'atorvastatin20'], ['metforminMr500']],
    clinic: 'Diabetes and endocrinology', labs: ['hba1c', 'creatinine', 'egfr', 'cholesterol'], procedures: ['ophthalmoscopy', 'dietEducation'],
    excludes: ['prediabetes'],
  }),
  prediabetes: c('15777000', 'Prediabetes', { kind: 'chronic', minAge: 40, risk: [[40, 0.05], [60, 0.1]], labs: ['hba1c'], procedures: ['dietEducation'], excludes: ['diabetes2'] }),
  hyperlipidaemia: c('55822004', 'Hyperlipidemia', {
    kind: 'chronic', minAge: 35, risk: [[35, 0.05], [50, 0.15], [65, 0.25]],
    regimens: [['atorvastatin20'], ['atorvastatin40'], ['rosuvastatin10']], labs: ['cholesterol', 'hdl', 'ldl', 'triglycerides'],
  }),
  asthma: c('195967001', 'Asthma', {
    kind: 'chronic', minAge: 3, risk: [[3, 0.06], [12, 0.1]],
    regimens: [['salbutamol'], ['salbutamol', 'clenil100'], ['salbutamol', 'symbicort200'], ['salbutamol', 'seretide250']],
    procedures: ['spirometry'],
  }),
  copd: c('13645005', 'Chronic obstructive lung disease', {
    kind: 'chronic', minAge: 40, risk: [[40, 0.01], [55, 0.04], [70, 0.07]],
    regimens: [['salbutamol', 'trelegy'], ['salbutamol', 'relvar92'], ['salbutamol']],
    clinic: 'Respiratory medicine', procedures: ['spirometry', 'chestXray'],
  }),
  atrialFibrillation: c('49436004', 'Atrial fibrillation', {
    kind: 'chronic', minAge: 50, risk: [[50, 0.01], [65, 0.04], [80, 0.1]],
    regimens: [['apixaban5'], ['rivaroxaban20'], ['warfarin1', 'warfarin5'], ['apixaban2_5']],
    clinic: 'Cardiology', procedures: ['ecg', 'echocardiography'],
  }),
  heartFailure: c('84114007', 'Heart failure', {
    kind: 'chronic', minAge: 55, risk: [[55, 0.01], [70, 0.04], [85, 0.08]],
    regimens: [['ramipril2_5'], ['ramipril5'], ['candesartan8']], clinic: 'Cardiology', labs: ['creatinine', 'egfr'], procedures: ['echocardiography'],
  }),
  coronaryDisease: c('53741008', 'Coronary arteriosclerosis', {
    kind: 'chronic', minAge: 45, risk: [[45, 0.01], [60, 0.06], [75, 0.12]],
    regimens: [['aspirin75', 'atorvastatin40'], ['clopidogrel75', 'atorvastatin40']], clinic: 'Cardiology', labs: ['cholesterol'], procedures: ['ecg', 'pci', 'cabg'],
  }),
  angina: c('194828000', 'Angina', {
    kind: 'chronic', minAge: 45, risk: [[45, 0.01], [65, 0.04], [80, 0.06]], regimens: [['aspirin75', 'atorvastatin40']], clinic: 'Cardiology', procedures: ['ecg'],
  }),
  ckd: c('709044004', 'Chronic kidney disease', {
    kind: 'chronic', minAge: 50, risk: [[50, 0.03], [70, 0.1], [80, 0.15]], clinic: 'Renal medicine', labs: ['creatinine', 'egfr', 'haemoglobin'], procedures: ['haemodialysis'],
  }),
  osteoarthritis: c('396275006', 'Osteoarthritis', {
    kind: 'chronic', minAge: 45, risk: [[45, 0.05], [60, 0.15], [75, 0.3]], regimens: [['paracetamol500']], clinic: 'Trauma and orthopaedics', procedures: ['hipReplacement', 'kneeReplacement', 'exerciseAdvice'],
  }),
  rheumatoidArthritis: c('69896004', 'Rheumatoid arthritis', { kind: 'chronic', minAge: 25, risk: [[25, 0.005], [50, 0.01]], regimens: [['paracetamol500']], clinic: 'Rheumatology', labs: ['haemoglobin'] }),
  osteoporosis: c('64859006', 'Osteoporosis', { kind: 'chronic', sex: 'female', minAge: 50, risk: [[50, 0.05], [65, 0.12], [80, 0.2]], procedures: ['boneDensityScan'] }),
  gout: c('90560007', 'Gout', { kind: 'chronic', sex: 'male', minAge: 30, risk: [[30, 0.01], [50, 0.04]], regimens: [['paracetamol500']] }),
  hypothyroidism: c('40930008', 'Hypothyroidism', { kind: 'chronic', minAge: 20, risk: [[20, 0.01], [50, 0.03], [70, 0.05]] }),
  reflux: c('235595009', 'Gastroesophageal reflux disease', { kind: 'chronic', minAge: 20, risk: [[20, 0.04], [50, 0.1]], procedures: ['colonoscopy'] }),
  epilepsy: c('84757009', 'Epilepsy', { kind: 'chronic', minAge: 2, risk: [[2, 0.005], [20, 0.008]], clinic: 'Neurology' }),
  migraine: c('37796009', 'Migraine', { kind: 'chronic', minAge: 12, maxAge: 50, risk: [[12, 0.05], [25, 0.1]], regimens: [['paracetamol500']] }),
  depression: c('35489007', 'Depressive disorder', { kind: 'chronic', minAge: 16, risk: [[16, 0.05], [30, 0.1]], procedures: ['cbtReferral'] }),
  anxiety: c('197480006', 'Anxiety disorder', { kind: 'chronic', minAge: 16, risk: [[16, 0.05], [30, 0.08]], procedures: ['cbtReferral'] }),
  dementia: c('52448006', 'Dementia', { kind: 'chronic', minAge: 65, risk: [[65, 0.02], [75, 0.06], [85, 0.15], [90, 0.25]], clinic: 'Care of the elderly', excludes: ['alzheimers'] }),
  alzheimers: c('26929004', "Alzheimer's disease", { kind: 'chronic', minAge: 65, risk: [[65, 0.01], [80, 0.04], [90, 0.08]], clinic: 'Care of the elderly', excludes: ['dementia'] }),
  parkinsons: c('49049000', "Parkinson's disease", { kind: 'chronic', minAge: 55, risk: [[55, 0.003], [70, 0.01], [80, 0.02]], clinic: 'Neurology' }),
  multipleSclerosis: c('24700007', 'Multiple sclerosis', { kind: 'chronic', minAge: 20, maxAge: 55, risk: [[20, 0.002], [40, 0.003]], clinic: 'Neurology' }),
  allergicRhinitis: c('61582004', 'Allergic rhinitis', { kind: 'chronic', minAge: 5, risk: [[5, 0.08], [15, 0.15]] }),
  eczema: c('24079001', 'Atopic dermatitis', { kind: 'chronic', minAge: 0, maxAge: 15, risk: [[0, 0.08], [18, 0.05]], clinic: 'Dermatology' }),
  psoriasis: c('9014002', 'Psoriasis', { kind: 'chronic', minAge: 15, risk: [[15, 0.01], [40, 0.02]], clinic: 'Dermatology' }),
  sleepApnoea: c('73430006', 'Sleep apnea', { kind: 'chronic', minAge: 35, risk: [[35, 0.02], [55, 0.04]], clinic: 'Respiratory medicine' }),
  obesity: c('414916001', 'Obesity', { kind: 'chronic', minAge: 18, risk: [[18, 0.15], [40, 0.25]], procedures: ['dietEducation', 'exerciseAdvice'] }),
  prostateHyperplasia: c('266569009', 'Benign prostatic hyperplasia', { kind: 'chronic', sex: 'male', minAge: 50, risk: [[50, 0.1], [70, 0.3]], clinic: 'Urology' }),
  prostateCancer: c('399068003', 'Malignant tumor of prostate', { kind: 'chronic', sex: 'male', minAge: 55, risk: [[55, 0.01], [70, 0.04]], clinic: 'Oncology' }),
  breastCancer: c('254837009', 'Malignant neoplasm of breast', { kind: 'chronic', sex: 'female', minAge: 40, risk: [[40, 0.01], [60, 0.03]], clinic: 'Oncology', procedures: ['mammography'] }),
  endometriosis: c('129103003', 'Endometriosis', { kind: 'chronic', sex: 'female', minAge: 15, maxAge: 45, risk: [[15, 0.03], [30, 0.06]], clinic: 'Gynaecology' }),
  crohns: c('34000006', "Crohn's disease", { kind: 'chronic', minAge: 15, risk: [[15, 0.003], [30, 0.005]], clinic: 'Gastroenterology', labs: ['haemoglobin'], procedures: ['colonoscopy'] }),
  ulcerativeColitis: c('64766004', 'Ulcerative colitis', { kind: 'chronic', minAge: 15, risk: [[15, 0.003], [30, 0.005]], clinic: 'Gastroenterology', labs: ['haemoglobin'], procedures: ['colonoscopy'] }),

  pneumonia: c('233604007', 'Pneumonia', { kind: 'acute', minAge: 0, risk: [[0, 0.01], [65, 0.03], [80, 0.06]], regimens: [['amoxicillin250']], admission: [2, 8], procedures: ['chestXray'], labs: ['whiteCells'] }),
  uti: c('68566005', 'Urinary tract infectious disease', { kind: 'acute', minAge: 1, risk: [[1, 0.01], [16, 0.02], [70, 0.04]], labs: ['whiteCells'] }),
  appendicitis: c('74400008', 'Appendicitis', { kind: 'acute', minAge: 5, maxAge: 60, risk: [[5, 0.002]], admission: [1, 4], procedures: ['appendectomy'], labs: ['whiteCells'] }),
  hipFracture: c('5913000', 'Fracture of neck of femur', { kind: 'acute', minAge: 65, risk: [[65, 0.004], [80, 0.015]], admission: [5, 20], procedures: ['hipReplacement'], labs: ['haemoglobin'] }),
  ankleSprain: c('44465007', 'Sprain of ankle', { kind: 'acute', minAge: 5, risk: [[5, 0.01]] }),
  chestPain: c('29857009', 'Chest pain', { kind: 'acute', minAge: 18, risk: [[18, 0.01], [50, 0.03]], procedures: ['ecg'] }),
  otitisMedia: c('65363002', 'Otitis media', { kind: 'acute', minAge: 0, maxAge: 12, risk: [[0, 0.08]], regimens: [['amoxicillin250']] }),
  bronchitis: c('10509002', 'Acute bronchitis', { kind: 'acute', minAge: 0, risk: [[0, 0.01]] }),
  myocardialInfarction: c('22298006', 'Myocardial infarction', {
    kind: 'acute', minAge: 40, risk: [[40, 0.001], [60, 0.004], [75, 0.008]],
    regimens: [['aspirin75', 'ticagrelor90', 'atorvastatin40', 'ramipril2_5']], admission: [3, 7], procedures: ['ecg', 'pci'], labs: ['cholesterol'],
  }),
  stroke: c('230690007', 'Cerebrovascular accident', {
    kind: 'acute', minAge: 45, risk: [[45, 0.001], [65, 0.004], [80, 0.01]], regimens: [['clopidogrel75', 'atorvastatin40']], admission: [4, 21], labs: ['cholesterol'],
  }),
  pregnancy: c('72892002', 'Normal pregnancy', { kind: 'acute', sex: 'female', minAge: 18, maxAge: 44, risk: [[18, 0.06], [35, 0.03], [42, 0.005]], clinic: 'Obstetrics', admission: [1, 3], procedures: ['caesarean'] }),
} satisfies Record<string, ConditionDef>;

export type ConditionKey = keyof typeof CONDITIONS;

/** The [from age, value] step in force at `age`. */
export function stepAt(steps: ReadonlyArray<readonly [number, number]>, age: number): number {
  let v = 0;
  for (const [from, p] of steps) if (age >= from) v = p;
  return v;
}
