import type { ConditionDef } from '../codes/conditions.js';
import { MEDICINES, ROUTES, type Medicine, type MedicineKey } from '../codes/medicines.js';
import type { Rng } from '../prng.js';
import { UCUM } from '../codes/systems.js';
import { DAY, fhirDateTime } from '../time.js';
import { resource, sct } from './build.js';
import type { Chart } from './chart.js';
import { reference, type Ref } from './types.js';

/** Short courses end after their days; everything else is a long-term repeat. */
const COURSE_DAYS: Partial<Record<MedicineKey, number>> = { amoxicillin250: 5 };

export interface Prescription {
  medicine: MedicineKey;
  /** The condition it treats (MedicationRequest.reasonReference). */
  reason: Ref;
  start: number;
  prescriber: Ref;
  organisation: Ref;
  encounter?: Ref;
  /** When the medicine was stopped early (an adverse reaction), if it was. */
  stopped?: number;
}

/**
 * A medicine given to the patient: the MedicationRequest (the latest authorisation:
 * active for a current repeat, completed for a finished course, stopped at death or
 * when stopped early)
 * and the MedicationStatement that records the patient taking it.
 */
export function prescribe(chart: Chart, rx: Prescription): void {
  const med: Medicine = MEDICINES[rx.medicine];
  const medication = chart.world.medicines.get(rx.medicine)!;
  const course = COURSE_DAYS[rx.medicine];
  const p = chart.p;
  const start = Math.max(rx.start, p.birth);
  if (start > p.end) return;
  const courseEnd = course !== undefined ? start + course * DAY : undefined;
  const finished = courseEnd !== undefined && courseEnd <= p.end;
  // The latest authorisation of a repeat is recent: within the last 84 days of the record.
  const authored = course !== undefined ? start : Math.max(start, p.end - chart.rng.int(1, 84) * DAY);
  const status = rx.stopped !== undefined || (!finished && p.death) ? 'stopped' : finished ? 'completed' : 'active';
  const route = med.form === 'inhaler' ? ROUTES.inhaled : ROUTES.oral;
  const dose = { value: med.perDose, unit: med.unit };
  const timing = med.perDay > 0 ? { timing: { repeat: { frequency: med.perDay, period: 1, periodUnit: 'd' } } } : { asNeededBoolean: true };
  const dosage = { text: med.dosage, ...timing, route: sct(route), doseQuantity: dose };
  const requestId = chart.id('medreq');
  chart.push(resource('MedicationRequest', requestId, {
    status,
    intent: 'order',
    medicationReference: reference(medication),
    subject: chart.subject,
    ...(rx.encounter ? { context: reference(rx.encounter) } : {}),
    authoredOn: fhirDateTime(authored),
    requester: { agent: reference(rx.prescriber), onBehalfOf: reference(rx.organisation) },
    reasonReference: [reference(rx.reason)],
    dosageInstruction: [dosage],
    dispenseRequest: {
      validityPeriod: { start: fhirDateTime(authored), end: fhirDateTime(Math.min(authored + (course ?? 28) * DAY, p.death ?? Infinity)) },
      ...(course !== undefined ? {} : { numberOfRepeatsAllowed: 5 }),
      quantity: { value: med.quantity, unit: med.unit },
      expectedSupplyDuration: { value: course ?? 28, unit: 'day', system: UCUM, code: 'd' },
    },
  }));
  const end = rx.stopped ?? (courseEnd !== undefined ? Math.min(courseEnd, p.end) : p.death);
  chart.push(resource('MedicationStatement', chart.id('medstat'), {
    basedOn: [{ reference: `MedicationRequest/${requestId}` }],
    ...(rx.encounter ? { context: reference(rx.encounter) } : {}),
    status,
    medicationReference: reference(medication),
    effectivePeriod: { start: fhirDateTime(start), ...(end !== undefined ? { end: fhirDateTime(end) } : {}) },
    dateAsserted: fhirDateTime(authored),
    informationSource: reference(rx.prescriber),
    subject: chart.subject,
    taken: 'y',
    reasonReference: [reference(rx.reason)],
    dosage: [dosage],
  }));
}

/** Picks a regimen the patient can take (no allergy), or undefined. */
export function chooseRegimen(rng: Rng, def: ConditionDef, avoid: Set<MedicineKey>): readonly MedicineKey[] | undefined {
  if (!def.regimens) return undefined;
  const safe = def.regimens.map((r) => r.filter((m) => !avoid.has(m))).filter((r) => r.length > 0);
  return safe.length ? rng.pick(safe) : undefined;
}
