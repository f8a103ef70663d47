import type { Concept } from './systems.js';

/**
 * Medicines: dm+d concepts as SNOMED CT codes, each with its exact dm+d name
 * (VMP: the virtual product; AMP: the actual product, whose name carries the
 * supplier). Every code and term was checked against published NHS dm+d code
 * lists (see docs/data.md, "Code tables").
 */
export interface Medicine extends Concept {
  kind: 'VMP' | 'AMP';
  /** Dose form, for Medication.form (SNOMED dose form concepts). */
  form: 'tablet' | 'capsule' | 'inhaler';
  /** The dosage as written on a prescription. */
  dosage: string;
  /** Units per dose, doses per day (0 = when required), and the quantity issued per 28 days. */
  perDose: number;
  perDay: number;
  quantity: number;
  unit: 'tablet' | 'capsule' | 'dose';
}

const m = (code: string, display: string, kind: Medicine['kind'], form: Medicine['form'], dosage: string, perDose: number, perDay: number, quantity: number): Medicine => ({
  code, display, kind, form, dosage, perDose, perDay, quantity, unit: form === 'inhaler' ? 'dose' : form,
});

export const MEDICINES = {
  ramipril2_5: m('318901006', 'Ramipril 2.5mg capsules', 'VMP', 'capsule', 'One capsule once a day', 1, 1, 28),
  ramipril5: m('318902004', 'Ramipril 5mg capsules', 'VMP', 'capsule', 'One capsule once a day', 1, 1, 28),
  ramipril10: m('318906001', 'Ramipril 10mg capsules', 'VMP', 'capsule', 'One capsule once a day', 1, 1, 28),
  lisinopril5: m('318858008', 'Lisinopril 5mg tablets', 'VMP', 'tablet', 'One tablet once a day', 1, 1, 28),
  losartan50: m('318956006', 'Losartan 50mg tablets', 'VMP', 'tablet', 'One tablet once a day', 1, 1, 28),
  candesartan8: m('318979007', 'Candesartan 8mg tablets', 'VMP', 'tablet', 'One tablet once a day', 1, 1, 28),
  amlodipine5: m('7333311000001100', 'Amlodipine 5mg tablets (Teva UK Ltd)', 'AMP', 'tablet', 'One tablet once a day', 1, 1, 28),
  amlodipine10: m('7333511000001106', 'Amlodipine 10mg tablets (Teva UK Ltd)', 'AMP', 'tablet', 'One tablet once a day', 1, 1, 28),
  atorvastatin20: m('20494411000001102', 'Atorvastatin 20mg tablets (Teva UK Ltd)', 'AMP', 'tablet', 'One tablet at night', 1, 1, 28),
  atorvastatin40: m('20494711000001108', 'Atorvastatin 40mg tablets (Teva UK Ltd)', 'AMP', 'tablet', 'One tablet at night', 1, 1, 28),
  rosuvastatin10: m('35028611000001104', 'Rosuvastatin 10mg tablets (Teva UK Ltd)', 'AMP', 'tablet', 'One tablet once a day', 1, 1, 28),
  metforminMr500: m('39113511000001101', 'Metformin 500mg modified-release tablets', 'VMP', 'tablet', 'One tablet twice a day with meals', 1, 2, 56),
  metformin1g: m('39461411000001102', 'Metformin 1g tablets', 'VMP', 'tablet', 'One tablet twice a day with meals', 1, 2, 56),
  salbutamol: m('39113611000001102', 'Salbutamol 100micrograms/dose inhaler CFC free', 'VMP', 'inhaler', 'Two puffs when required for breathlessness', 2, 0, 200),
  clenil100: m('10618211000001109', 'Clenil Modulite 100micrograms/dose inhaler (Chiesi Ltd)', 'AMP', 'inhaler', 'Two puffs twice a day', 2, 2, 200),
  seretide250: m('539811000001106', 'Seretide 250 Evohaler (GlaxoSmithKline UK Ltd)', 'AMP', 'inhaler', 'Two puffs twice a day', 2, 2, 120),
  symbicort200: m('3294611000001104', 'Symbicort 200/6 Turbohaler (AstraZeneca UK Ltd)', 'AMP', 'inhaler', 'One inhalation twice a day', 1, 2, 120),
  relvar92: m('23622011000001107', 'Relvar Ellipta 92micrograms/dose / 22micrograms/dose dry powder inhaler (GlaxoSmithKline UK Ltd)', 'AMP', 'inhaler', 'One inhalation once a day', 1, 1, 30),
  trelegy: m('34952211000001104', 'Trelegy Ellipta 92micrograms/dose / 55micrograms/dose / 22micrograms/dose dry powder inhaler (GlaxoSmithKline UK Ltd)', 'AMP', 'inhaler', 'One inhalation once a day', 1, 1, 30),
  paracetamol500: m('322236009', 'Paracetamol 500mg tablets', 'VMP', 'tablet', 'One or two tablets up to four times a day when required', 2, 0, 100),
  amoxicillin250: m('323509004', 'Amoxicillin 250mg capsules', 'VMP', 'capsule', 'Two capsules three times a day for 5 days', 2, 3, 30),
  aspirin75: m('319773006', 'Aspirin 75mg dispersible tablets', 'VMP', 'tablet', 'One tablet once a day', 1, 1, 28),
  clopidogrel75: m('15926111000001104', 'Clopidogrel 75mg tablets (Teva UK Ltd)', 'AMP', 'tablet', 'One tablet once a day', 1, 1, 28),
  ticagrelor90: m('704465002', 'Ticagrelor 90mg tablets', 'VMP', 'tablet', 'One tablet twice a day', 1, 2, 56),
  apixaban5: m('703908001', 'Apixaban 5mg tablets', 'VMP', 'tablet', 'One tablet twice a day', 1, 2, 56),
  apixaban2_5: m('703907006', 'Apixaban 2.5mg tablets', 'VMP', 'tablet', 'One tablet twice a day', 1, 2, 56),
  rivaroxaban20: m('19842211000001107', 'Rivaroxaban 20mg tablets', 'VMP', 'tablet', 'One tablet once a day with food', 1, 1, 28),
  warfarin1: m('319733000', 'Warfarin 1mg tablets', 'VMP', 'tablet', 'As directed by the anticoagulation clinic', 1, 1, 28),
  warfarin5: m('319735007', 'Warfarin 5mg tablets', 'VMP', 'tablet', 'As directed by the anticoagulation clinic', 1, 1, 28),
} satisfies Record<string, Medicine>;

export type MedicineKey = keyof typeof MEDICINES;

/** SNOMED CT dose forms for Medication.form (inhalers are left without one: pressurised and powder inhalers differ). */
export const DOSE_FORMS: Partial<Record<Medicine['form'], Concept>> = {
  tablet: { code: '385055001', display: 'Tablet' },
  capsule: { code: '385049006', display: 'Capsule' },
};

/** SNOMED CT routes for dosage instructions. */
export const ROUTES = {
  oral: { code: '26643006', display: 'Oral route' },
  inhaled: { code: '447694001', display: 'Respiratory tract route' },
  intramuscular: { code: '78421000', display: 'Intramuscular route' },
} satisfies Record<string, Concept>;
