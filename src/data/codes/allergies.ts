import type { MedicineKey } from './medicines.js';
import type { Concept } from './systems.js';

/** Allergies: SNOMED CT substances (CareConnect-AllergyCode-1), their reactions, and what they rule out. */
export interface AllergyDef extends Concept {
  category: 'medication' | 'food' | 'environment';
  reactions: readonly Concept[];
  /** Medicines a patient with this allergy must not be given. */
  contraindicates?: readonly MedicineKey[];
  weight: number;
}

const REACTIONS = {
  urticaria: { code: '126485001', display: 'Urticaria' },
  anaphylaxis: { code: '39579001', display: 'Anaphylaxis' },
  dyspnoea: { code: '267036007', display: 'Dyspnea' },
  nausea: { code: '422587007', display: 'Nausea' },
  vomiting: { code: '422400008', display: 'Vomiting' },
  itching: { code: '418290006', display: 'Itching' },
  oedema: { code: '267038008', display: 'Edema' },
  sneezing: { code: '76067001', display: 'Sneezing' },
  conjunctivitis: { code: '9826008', display: 'Conjunctivitis' },
  nasalDischarge: { code: '64531003', display: 'Nasal discharge' },
  cough: { code: '49727002', display: 'Cough' },
} satisfies Record<string, Concept>;

const r = REACTIONS;

export const ALLERGIES = {
  penicillin: { code: '764146007', display: 'Penicillin', category: 'medication', reactions: [r.urticaria, r.anaphylaxis, r.itching], contraindicates: ['amoxicillin250'], weight: 10 },
  amoxicillin: { code: '372687004', display: 'Amoxicillin', category: 'medication', reactions: [r.urticaria, r.itching], contraindicates: ['amoxicillin250'], weight: 3 },
  aspirin: { code: '387458008', display: 'Aspirin', category: 'medication', reactions: [r.dyspnoea, r.urticaria], contraindicates: ['aspirin75'], weight: 2 },
  ibuprofen: { code: '387207008', display: 'Ibuprofen', category: 'medication', reactions: [r.dyspnoea, r.urticaria, r.oedema], weight: 3 },
  codeine: { code: '387494007', display: 'Codeine', category: 'medication', reactions: [r.nausea, r.vomiting, r.itching], weight: 3 },
  morphine: { code: '373529000', display: 'Morphine', category: 'medication', reactions: [r.nausea, r.vomiting, r.itching], weight: 1 },
  peanut: { code: '762952008', display: 'Peanut', category: 'food', reactions: [r.anaphylaxis, r.urticaria, r.oedema], weight: 3 },
  egg: { code: '102263004', display: 'Eggs (edible)', category: 'food', reactions: [r.urticaria, r.vomiting], weight: 2 },
  milk: { code: '3718001', display: "Cow's milk", category: 'food', reactions: [r.vomiting, r.urticaria], weight: 2 },
  latex: { code: '111088007', display: 'Latex', category: 'environment', reactions: [r.urticaria, r.itching], weight: 2 },
  grassPollen: { code: '256277009', display: 'Grass pollen', category: 'environment', reactions: [r.sneezing, r.conjunctivitis, r.nasalDischarge], weight: 4 },
  beeVenom: { code: '288328004', display: 'Bee venom', category: 'environment', reactions: [r.anaphylaxis, r.oedema], weight: 1 },
} satisfies Record<string, AllergyDef>;

export type AllergyKey = keyof typeof ALLERGIES;

/** 716186003 |No known allergy (situation)|, recorded when a patient was asked and has none. */
export const NO_KNOWN_ALLERGY: Concept = { code: '716186003', display: 'No known allergy' };
