import type { Concept } from './systems.js';

/**
 * Clinical documents: the discharge summary's type, its section headings, the practice
 * settings that letters come from, and the flags raised on a record.
 */

/** 373942005 |Discharge summary|: the type of the Composition and of the DocumentReference of a discharge letter. */
export const DISCHARGE_SUMMARY: Concept = { code: '373942005', display: 'Discharge summary' };

/**
 * Section headings of a transfer-of-care (discharge) document: SNOMED CT UK Edition
 * concepts of the clinical record headings reference set (PRSB headings, as the NHS
 * eDischarge specification uses them), in the order the document lists them.
 */
export const SECTIONS = {
  demographics: { code: '886731000000109', display: 'Patient demographics' },
  gpPractice: { code: '886711000000101', display: 'GP practice' },
  admission: { code: '886781000000108', display: 'Admission details' },
  diagnoses: { code: '887161000000102', display: 'Diagnoses' },
  procedures: { code: '887171000000109', display: 'Procedures' },
  investigations: { code: '1082101000000102', display: 'Investigation results' },
  medications: { code: '933361000000108', display: 'Medications and medical devices' },
  allergies: { code: '886921000000105', display: 'Allergies and adverse reactions' },
  summary: { code: '887181000000106', display: 'Clinical summary' },
  discharge: { code: '886811000000106', display: 'Discharge details' },
  plan: { code: '887201000000105', display: 'Plan and requested actions' },
  author: { code: '887231000000104', display: 'Person completing record' },
} satisfies Record<string, Concept>;

/**
 * The practice setting of a document (DocumentReference.context.practiceSetting) for
 * each clinical specialty: SNOMED CT service concepts of the NHS England practice
 * setting value set (UK Edition concepts where the code ends in ...1000000...).
 */
export const PRACTICE_SETTINGS: Record<string, Concept> = {
  'Emergency medicine': { code: '409971007', display: 'Emergency medical services' },
  Cardiology: { code: '893061000000109', display: 'Cardiology service' },
  'Respiratory medicine': { code: '893081000000100', display: 'Respiratory medicine service' },
  'Diabetes and endocrinology': { code: '963151000000104', display: 'Diabetic medicine service' },
  'Renal medicine': { code: '893141000000109', display: 'Nephrology service' },
  'Trauma and orthopaedics': { code: '893431000000109', display: 'Trauma and orthopaedics service' },
  'General surgery': { code: '310156009', display: 'General surgical service' },
  Rheumatology: { code: '3621000175101', display: 'Rheumatology service' },
  'Care of the elderly': { code: '700221004', display: 'Care of elderly service' },
  Neurology: { code: '788005004', display: 'Neurology service' },
  Dermatology: { code: '700241009', display: 'Dermatology service' },
  Gastroenterology: { code: '700433006', display: 'Gastroenterology service' },
  Urology: { code: '310167005', display: 'Urology service' },
  Oncology: { code: '892571000000101', display: 'Medical oncology service' },
  Gynaecology: { code: '310061009', display: 'Gynecology service' },
  Obstetrics: { code: '310063007', display: 'Obstetrics service' },
  'General medicine': { code: '700232004', display: 'General medical service' },
  'Paediatric respiratory medicine': { code: '893771000000104', display: 'Paediatric respiratory medicine service' },
};

/** Flags (alerts on a record): SNOMED CT findings, with the STU3 flag category where one fits. */
export const FLAGS = {
  fallsRisk: { code: '129839007', display: 'At risk for falls' },
  penicillinAllergy: { code: '91936005', display: 'Allergy to penicillin', category: { code: 'drug', display: 'Drug' } },
} satisfies Record<string, Concept & { category?: Concept }>;
