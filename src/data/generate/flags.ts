import { ALLERGIES } from '../codes/allergies.js';
import { CONDITIONS } from '../codes/conditions.js';
import { FLAGS } from '../codes/documents.js';
import { FLAG_CATEGORY, type Concept } from '../codes/systems.js';
import { fhirDateTime } from '../time.js';
import { resource, sct } from './build.js';
import type { Chart } from './chart.js';
import { RecordIndex, type Obj } from './record-index.js';

/** Conditions that put a patient at risk of falls: from onset, or (a fracture) from the end of its admission. */
const FALLS = new Set([CONDITIONS.dementia.code, CONDITIONS.alzheimers.code, CONDITIONS.parkinsons.code]);
const FRACTURE = CONDITIONS.hipFracture.code;

/**
 * Flags (CareConnect-Flag-1) where a clinician would raise one, read from the finished
 * record: a penicillin allergy (from when it was recorded), and a risk of falls after a
 * hip fracture or with dementia or Parkinson's disease (one flag, from the earliest).
 * Flags of a patient who has died are inactive, ending at death.
 * https://hl7.org/fhir/STU3/flag.html
 */
export function raiseFlags(chart: Chart): void {
  const index = new RecordIndex(chart.out);
  for (const a of index.all('AllergyIntolerance')) {
    if (a.code.coding[0].code === ALLERGIES.penicillin.code) flag(chart, FLAGS.penicillinAllergy, a.assertedDate, a.recorder);
  }
  let falls: { start: string; author: Obj; encounter?: Obj } | undefined;
  for (const c of index.all('Condition')) {
    const code = c.code.coding[0].code;
    let risk: typeof falls;
    if (FALLS.has(code)) risk = { start: c.onsetDateTime, author: c.asserter };
    else if (code === FRACTURE) {
      const stay = index.all('Encounter').find((e) => e.class.code === 'IMP' && e.diagnosis?.some((d: Obj) => d.condition.reference === `Condition/${c.id}`));
      if (stay) risk = { start: stay.period.end, author: stay.participant[0].individual, encounter: { reference: `Encounter/${stay.id}` } };
    }
    if (risk && (!falls || Date.parse(risk.start) < Date.parse(falls.start))) falls = risk;
  }
  if (falls) flag(chart, FLAGS.fallsRisk, falls.start, falls.author, falls.encounter);
}

function flag(chart: Chart, def: Concept & { category?: Concept }, start: string, author: Obj, encounter?: Obj): void {
  const death = chart.p.death;
  chart.push(resource('Flag', chart.id('flag'), {
    status: death === undefined ? 'active' : 'inactive',
    ...(def.category ? { category: { coding: [{ system: FLAG_CATEGORY, code: def.category.code, display: def.category.display }] } } : {}),
    code: sct(def),
    subject: chart.subject,
    period: { start, ...(death !== undefined ? { end: fhirDateTime(death) } : {}) },
    ...(encounter ? { encounter } : {}),
    author: { reference: author.reference, ...(author.display ? { display: author.display } : {}) },
  }));
}
