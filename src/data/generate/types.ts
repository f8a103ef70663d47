import type { Resource } from '../../fhir/resource.js';
import type { PatientFacts } from './patient.js';

/** A generated resource: always with its id. */
export type Res = Resource & { id: string };

/** A reference to a generated resource, kept with its display text. */
export interface Ref {
  type: string;
  id: string;
  display?: string;
}

export function reference(r: Ref): { reference: string; display?: string } {
  return r.display ? { reference: `${r.type}/${r.id}`, display: r.display } : { reference: `${r.type}/${r.id}` };
}

/**
 * How generated resources are named: readable, stable ids (`[A-Za-z0-9\-.]{1,64}`).
 * World resources (organisations, staff, medicines) take a prefix; a patient's own
 * resources are named after the patient (`pat-00001-obs-12`).
 */
export class Ids {
  constructor(readonly prefix: string, private readonly patientIds: readonly string[] = []) {}

  world(kind: string, key: string): string {
    return `${this.prefix}${kind}-${key.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}`;
  }

  patient(index: number): string {
    return this.patientIds[index] ?? `${this.prefix}pat-${String(index + 1).padStart(5, '0')}`;
  }
}

/** Generation settings shared by every part of the generator. */
export interface GenerateOptions {
  /** Number of patients. */
  patients: number;
  /** The seed: the same seed gives the same resources, byte for byte. */
  seed: number;
  /** "Today" for the generated records (YYYY-MM-DD); defaults to REFERENCE_DATE. */
  referenceDate?: string;
  /** Prefix of every generated id; defaults to `s{seed}-` so several seeds can share a store. */
  idPrefix?: string;
  /** Explicit patient ids (the demo set uses the ids the API documentation shows). */
  patientIds?: readonly string[];
  /** Facts some patients must have, by patient id (see PatientFacts). */
  patientFacts?: Readonly<Record<string, PatientFacts>>;
}
