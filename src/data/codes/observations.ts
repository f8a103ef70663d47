import type { Concept } from './systems.js';

/**
 * Observations: vital signs (SNOMED CT observable entities, with the LOINC code the
 * FHIR vital signs profile expects beside them) and laboratory results (UK Edition
 * pathology concepts). Values are in UCUM units.
 */
export interface ObservationDef extends Concept {
  category: 'vital-signs' | 'laboratory';
  loinc?: Concept;
  unit: string;
  ucum: string;
  /** Decimal places of the value as reported. */
  decimals: number;
  /** Reference range for adults, when the result is reported with one. */
  range?: readonly [number, number];
}

const o = (code: string, display: string, def: Omit<ObservationDef, 'code' | 'display'>): ObservationDef => ({ code, display, ...def });

export const VITALS = {
  heartRate: o('364075005', 'Heart rate', { category: 'vital-signs', loinc: { code: '8867-4', display: 'Heart rate' }, unit: 'beats/minute', ucum: '/min', decimals: 0 }),
  bloodPressure: o('75367002', 'Blood pressure', { category: 'vital-signs', loinc: { code: '85354-9', display: 'Blood pressure panel with all children optional' }, unit: 'mmHg', ucum: 'mm[Hg]', decimals: 0 }),
  systolic: o('271649006', 'Systolic blood pressure', { category: 'vital-signs', loinc: { code: '8480-6', display: 'Systolic blood pressure' }, unit: 'mmHg', ucum: 'mm[Hg]', decimals: 0 }),
  diastolic: o('271650006', 'Diastolic blood pressure', { category: 'vital-signs', loinc: { code: '8462-4', display: 'Diastolic blood pressure' }, unit: 'mmHg', ucum: 'mm[Hg]', decimals: 0 }),
  temperature: o('386725007', 'Body temperature', { category: 'vital-signs', loinc: { code: '8310-5', display: 'Body temperature' }, unit: 'degrees C', ucum: 'Cel', decimals: 1 }),
  respiratoryRate: o('86290005', 'Respiratory rate', { category: 'vital-signs', loinc: { code: '9279-1', display: 'Respiratory rate' }, unit: 'breaths/minute', ucum: '/min', decimals: 0 }),
  oxygenSaturation: o('431314004', 'Peripheral oxygen saturation', { category: 'vital-signs', loinc: { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' }, unit: '%', ucum: '%', decimals: 0 }),
  weight: o('27113001', 'Body weight', { category: 'vital-signs', loinc: { code: '29463-7', display: 'Body weight' }, unit: 'kg', ucum: 'kg', decimals: 1 }),
  height: o('50373000', 'Body height', { category: 'vital-signs', loinc: { code: '8302-2', display: 'Body height' }, unit: 'cm', ucum: 'cm', decimals: 0 }),
  bmi: o('60621009', 'Body mass index', { category: 'vital-signs', loinc: { code: '39156-5', display: 'Body mass index (BMI) [Ratio]' }, unit: 'kg/m2', ucum: 'kg/m2', decimals: 1 }),
} satisfies Record<string, ObservationDef>;

export const LABS = {
  hba1c: o('999791000000106', 'Haemoglobin A1c level - International Federation of Clinical Chemistry and Laboratory Medicine standardised', { category: 'laboratory', unit: 'mmol/mol', ucum: 'mmol/mol', decimals: 0, range: [20, 41] }),
  creatinine: o('1000731000000107', 'Serum creatinine level', { category: 'laboratory', unit: 'umol/L', ucum: 'umol/L', decimals: 0, range: [45, 110] }),
  egfr: o('1020291000000106', 'GFR (glomerular filtration rate) calculated by abbreviated Modification of Diet in Renal Disease Study Group calculation', { category: 'laboratory', unit: 'mL/min/1.73m2', ucum: 'mL/min/{1.73_m2}', decimals: 0, range: [90, 120] }),
  haemoglobin: o('1022431000000105', 'Haemoglobin estimation', { category: 'laboratory', unit: 'g/L', ucum: 'g/L', decimals: 0, range: [115, 165] }),
  whiteCells: o('1022541000000102', 'Total white cell count', { category: 'laboratory', unit: '10*9/L', ucum: '10*9/L', decimals: 1, range: [4, 11] }),
  cholesterol: o('994351000000103', 'Serum total cholesterol level', { category: 'laboratory', unit: 'mmol/L', ucum: 'mmol/L', decimals: 1, range: [0, 5] }),
  hdl: o('1005681000000107', 'Serum high density lipoprotein cholesterol level', { category: 'laboratory', unit: 'mmol/L', ucum: 'mmol/L', decimals: 1, range: [1, 3] }),
  ldl: o('1022191000000100', 'Serum low density lipoprotein cholesterol level', { category: 'laboratory', unit: 'mmol/L', ucum: 'mmol/L', decimals: 1, range: [0, 3] }),
  triglycerides: o('1005691000000109', 'Serum triglycerides level', { category: 'laboratory', unit: 'mmol/L', ucum: 'mmol/L', decimals: 1, range: [0, 1.7] }),
} satisfies Record<string, ObservationDef>;

export type VitalKey = keyof typeof VITALS;
export type LabKey = keyof typeof LABS;

/** http://hl7.org/fhir/observation-category. */
export const OBSERVATION_CATEGORIES: Record<ObservationDef['category'], Concept> = {
  'vital-signs': { code: 'vital-signs', display: 'Vital Signs' },
  laboratory: { code: 'laboratory', display: 'Laboratory' },
};

/**
 * Laboratory reports: the tests reported together, one DiagnosticReport each. SNOMED CT
 * procedure concepts, with the diagnostic service section of HL7 v2 table 0074.
 */
export interface LabPanel extends Concept {
  section: Concept;
  labs: readonly LabKey[];
}

const CHEMISTRY: Concept = { code: 'CH', display: 'Chemistry' };
const HAEMATOLOGY: Concept = { code: 'HM', display: 'Hematology' };

export const LAB_PANELS: readonly LabPanel[] = [
  { code: '43396009', display: 'Hemoglobin A1c measurement', section: CHEMISTRY, labs: ['hba1c'] },
  { code: '252167001', display: 'Measurement of urea and electrolytes', section: CHEMISTRY, labs: ['creatinine', 'egfr'] },
  { code: '26604007', display: 'Complete blood count', section: HAEMATOLOGY, labs: ['haemoglobin', 'whiteCells'] },
  { code: '16254007', display: 'Lipid panel', section: CHEMISTRY, labs: ['cholesterol', 'hdl', 'ldl', 'triglycerides'] },
];
