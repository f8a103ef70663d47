import { CONDITION_CATEGORY } from '../codes/careconnect.js';
import type { ConditionDef } from '../codes/conditions.js';
import { LAB_PANELS, LABS, VITALS, type LabKey, type ObservationDef } from '../codes/observations.js';
import type { ProcedureDef } from '../codes/procedures.js';
import { ACT_CODE, codeSystem, DIAGNOSTIC_SECTION, type Concept } from '../codes/systems.js';
import type { Rng } from '../prng.js';
import { fhirDateTime } from '../time.js';
import { observationCategory, observationCode, quantity, resource, round, sct } from './build.js';
import type { PatientInfo } from './patient.js';
import { reference, type Ref, type Res } from './types.js';
import type { World } from './world.js';

const CLASSES = {
  EMER: 'emergency',
  IMP: 'inpatient encounter',
  AMB: 'ambulatory',
} as const;

const INTERPRETATION = 'http://hl7.org/fhir/v2/0078';

/** Laboratory results are issued three hours after the sample is taken. */
const LAB_TURNAROUND = 3 * 3_600_000;

/**
 * One patient's chart: creates their clinical resources with ids named after the
 * patient, and refuses anything dated before birth or after death (or "today").
 */
export class Chart {
  readonly out: Res[] = [];
  private readonly counters = new Map<string, number>();
  encounters = 0;

  constructor(readonly rng: Rng, readonly p: PatientInfo, readonly world: World) {}

  /** Whether an instant lies within the patient's life and the record's time. */
  inLife(t: number): boolean {
    return t >= this.p.birth && t <= this.p.end;
  }

  id(kind: string): string {
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    return `${this.p.ref.id}-${kind}-${n}`;
  }

  private add(r: Res): Ref {
    this.out.push(r);
    return { type: r.resourceType, id: r.id };
  }

  get subject() {
    return reference(this.p.ref);
  }

  episode(start: number, end: number | undefined, careManager: Ref, label: string, diagnosis?: Ref): Ref {
    const active = end === undefined || end > this.p.end;
    const period: Record<string, string> = { start: fhirDateTime(start) };
    if (!active) period.end = fhirDateTime(end!);
    else if (this.p.death) period.end = fhirDateTime(this.p.death);
    return this.add(resource('EpisodeOfCare', this.id('eoc'), {
      status: active && !this.p.death ? 'active' : 'finished',
      type: [{ text: label }],
      ...(diagnosis ? { diagnosis: [{ condition: reference(diagnosis), rank: 1 }] } : {}),
      patient: this.subject,
      managingOrganization: reference(this.world.trust),
      period,
      careManager: reference(careManager),
    }));
  }

  encounter(cls: keyof typeof CLASSES, start: number, end: number, episode: Ref, who: Ref, where: Ref, reason?: Concept, diagnosis?: Ref): Ref {
    this.encounters++;
    return this.add(resource('Encounter', this.id('enc'), {
      status: 'finished',
      class: { system: ACT_CODE, code: cls, display: CLASSES[cls] },
      subject: this.subject,
      episodeOfCare: [reference(episode)],
      participant: [{ individual: reference(who) }],
      period: { start: fhirDateTime(start), end: fhirDateTime(end) },
      ...(reason ? { reason: [sct(reason)] } : {}),
      ...(diagnosis ? { diagnosis: [{ condition: reference(diagnosis), rank: 1 }] } : {}),
      location: [{ location: reference(where), status: 'completed' }],
      serviceProvider: reference(this.world.trust),
    }));
  }

  condition(def: ConditionDef, onset: number, asserter: Ref, opts: { abatement?: number; encounter?: Ref; category?: Concept } = {}): Ref {
    const category = opts.category ?? (def.kind === 'chronic' ? CONDITION_CATEGORY.problem : CONDITION_CATEGORY.diagnosis);
    const resolved = opts.abatement !== undefined && opts.abatement <= this.p.end;
    return this.add(resource('Condition', this.id('cond'), {
      clinicalStatus: resolved ? 'resolved' : 'active',
      category: [{ coding: [{ system: codeSystem('ConditionCategory'), code: category.code, display: category.display }] }],
      code: sct(def),
      subject: this.subject,
      ...(opts.encounter ? { context: reference(opts.encounter) } : {}),
      onsetDateTime: fhirDateTime(onset),
      ...(resolved ? { abatementDateTime: fhirDateTime(opts.abatement!) } : {}),
      assertedDate: fhirDateTime(onset),
      asserter: reference(asserter),
    }));
  }

  procedure(def: ProcedureDef, start: number, minutes: number, who: Ref, encounter: Ref, reason: Ref, where?: Ref): Ref {
    return this.add(resource('Procedure', this.id('proc'), {
      status: 'completed',
      code: sct(def),
      subject: this.subject,
      context: reference(encounter),
      performedPeriod: { start: fhirDateTime(start), end: fhirDateTime(start + minutes * 60_000) },
      performer: [{ actor: reference(who) }],
      ...(where ? { location: reference(where) } : {}),
      reasonReference: [reference(reason)],
    }));
  }

  /** A single-valued observation (vital sign or laboratory result). */
  observation(def: ObservationDef, value: number, at: number, encounter: Ref, performer: Ref): Ref {
    const body: Record<string, unknown> = {
      status: 'final',
      category: observationCategory(def),
      code: observationCode(def),
      subject: this.subject,
      context: reference(encounter),
      effectiveDateTime: fhirDateTime(at),
      issued: fhirDateTime(at + (def.category === 'laboratory' ? LAB_TURNAROUND : 0)),
      performer: [reference(performer)],
      valueQuantity: quantity(value, def),
    };
    if (def.range) {
      const v = round(value, def.decimals);
      const flag = v < def.range[0] ? ['L', 'Low'] : v > def.range[1] ? ['H', 'High'] : ['N', 'Normal'];
      body.interpretation = { coding: [{ system: INTERPRETATION, code: flag[0], display: flag[1] }] };
      body.referenceRange = [{ low: quantity(def.range[0], def), high: quantity(def.range[1], def) }];
    }
    return this.add(resource('Observation', this.id('obs'), body));
  }

  bloodPressure(systolic: number, diastolic: number, at: number, encounter: Ref, performer: Ref): Ref {
    const component = (def: ObservationDef, v: number) => ({ code: observationCode(def), valueQuantity: quantity(v, def) });
    return this.add(resource('Observation', this.id('obs'), {
      status: 'final',
      category: observationCategory(VITALS.bloodPressure),
      code: observationCode(VITALS.bloodPressure),
      subject: this.subject,
      context: reference(encounter),
      effectiveDateTime: fhirDateTime(at),
      issued: fhirDateTime(at),
      performer: [reference(performer)],
      component: [component(VITALS.systolic, systolic), component(VITALS.diastolic, diastolic)],
    }));
  }

  /**
   * Laboratory results of one sample (taken at `at`, reported three hours later), and a
   * DiagnosticReport for each panel they belong to, performed by the trust's laboratory.
   */
  labs(results: ReadonlyArray<readonly [LabKey, number]>, at: number, encounter: Ref, requester: Ref): void {
    const done = new Map<LabKey, Ref>();
    for (const [key, value] of results) done.set(key, this.observation(LABS[key], value, at, encounter, requester));
    for (const panel of LAB_PANELS) {
      const result = panel.labs.filter((k) => done.has(k)).map((k) => reference(done.get(k)!));
      if (!result.length) continue;
      this.add(resource('DiagnosticReport', this.id('report'), {
        status: 'final',
        category: { coding: [{ system: DIAGNOSTIC_SECTION, code: panel.section.code, display: panel.section.display }] },
        code: sct(panel),
        subject: this.subject,
        context: reference(encounter),
        effectiveDateTime: fhirDateTime(at),
        issued: fhirDateTime(at + LAB_TURNAROUND),
        performer: [{ actor: reference(this.world.trust) }],
        result,
      }));
    }
  }

  push(r: Res): Ref {
    return this.add(r);
  }
}
