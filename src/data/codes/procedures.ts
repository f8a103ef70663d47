import type { Concept } from './systems.js';

/** Procedures: SNOMED CT concepts with their preferred terms (UK Edition concepts where noted). */
export interface ProcedureDef extends Concept {
  /** Done during an admission (inpatient), at a clinic (outpatient), or in A&E. */
  setting: 'inpatient' | 'outpatient' | 'emergency';
  sex?: 'female' | 'male';
}

const p = (code: string, display: string, setting: ProcedureDef['setting'], sex?: ProcedureDef['sex']): ProcedureDef => ({ code, display, setting, ...(sex ? { sex } : {}) });

export const PROCEDURES = {
  appendectomy: p('80146002', 'Appendectomy', 'inpatient'),
  hipReplacement: p('52734007', 'Total hip replacement', 'inpatient'),
  kneeReplacement: p('609588000', 'Total knee replacement', 'inpatient'),
  pci: p('415070008', 'Percutaneous coronary intervention', 'inpatient'),
  cabg: p('232717009', 'Coronary artery bypass grafting', 'inpatient'),
  caesarean: p('11466000', 'Cesarean section', 'inpatient', 'female'),
  haemodialysis: p('302497006', 'Hemodialysis', 'outpatient'),
  ecg: p('29303009', 'Electrocardiographic procedure', 'emergency'),
  chestXray: p('399208008', 'Plain chest X-ray', 'emergency'),
  echocardiography: p('40701008', 'Echocardiography', 'outpatient'),
  spirometry: p('127783003', 'Spirometry', 'outpatient'),
  colonoscopy: p('73761001', 'Colonoscopy', 'outpatient'),
  mammography: p('71651007', 'Mammography', 'outpatient', 'female'),
  boneDensityScan: p('312681000', 'Bone density scan', 'outpatient'),
  ophthalmoscopy: p('410450009', 'Direct ophthalmoscopy', 'outpatient'),
  dietEducation: p('11816003', 'Diet education', 'outpatient'),
  exerciseAdvice: p('281090004', 'Recommendation to exercise', 'outpatient'),
  /** UK Edition concept. */
  cbtReferral: p('519101000000109', 'Referral for cognitive behavioural therapy', 'outpatient'),
} satisfies Record<string, ProcedureDef>;

export type ProcedureKey = keyof typeof PROCEDURES;
