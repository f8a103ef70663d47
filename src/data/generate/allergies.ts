import { ALLERGIES, NO_KNOWN_ALLERGY, type AllergyDef } from '../codes/allergies.js';
import type { MedicineKey } from '../codes/medicines.js';
import { ageAt, atAge, DAY, fhirDateTime, YEAR } from '../time.js';
import { resource, sct } from './build.js';
import type { Chart } from './chart.js';
import { reference } from './types.js';

/**
 * Allergies and intolerances: about a quarter of patients have one or two, a third
 * have "no known allergy" recorded, the rest nothing. Returns the medicines the
 * patient must not be prescribed.
 */
export function recordAllergies(chart: Chart): Set<MedicineKey> {
  const { rng, p } = chart;
  const avoid = new Set<MedicineKey>();
  const roll = rng.next();
  const age = ageAt(p.birth, p.end);
  if (roll < 0.25 && age >= 1) {
    const defs = rng.sample(Object.values(ALLERGIES) as AllergyDef[], rng.chance(0.2) ? 2 : 1);
    for (const def of defs) {
      const onset = Math.min(atAge(p.birth, rng.float(0.5, Math.max(0.6, age))), p.end - DAY);
      const asserted = Math.min(onset + rng.int(0, 60) * DAY, p.end);
      const reactions = rng.sample(def.reactions, rng.int(1, 2));
      const severe = reactions.some((r) => r.code === '39579001');
      chart.push(resource('AllergyIntolerance', chart.id('allergy'), {
        clinicalStatus: 'active',
        verificationStatus: 'confirmed',
        type: 'allergy',
        category: [def.category],
        criticality: severe ? 'high' : 'low',
        code: sct(def),
        patient: chart.subject,
        onsetDateTime: fhirDateTime(Math.max(onset, p.birth)),
        assertedDate: fhirDateTime(Math.max(asserted, p.birth)),
        recorder: reference(p.gp),
        reaction: [{ manifestation: reactions.map(sct), severity: severe ? 'severe' : rng.pick(['mild', 'moderate']) }],
      }));
      for (const m of def.contraindicates ?? []) avoid.add(m);
    }
  } else if (roll < 0.6) {
    const asserted = Math.max(p.birth + DAY, p.end - rng.float(0, 10) * YEAR);
    chart.push(resource('AllergyIntolerance', chart.id('allergy'), {
      clinicalStatus: 'active',
      verificationStatus: 'confirmed',
      code: sct(NO_KNOWN_ALLERGY),
      patient: chart.subject,
      assertedDate: fhirDateTime(Math.min(asserted, p.end)),
      recorder: reference(p.gp),
    }));
  }
  return avoid;
}
