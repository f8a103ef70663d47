/**
 * What a caller may see. The store hands out readers only for an access value
 * (`Store.reader(access)`), and the SQL compiler applies it to every resource row a
 * query names (search/compile/access.ts), so no read path can forget it.
 *
 * Per resource type, a caller sees all of it, only what lies in the compartments of
 * `patients` (the STU3 Patient CompartmentDefinition), or nothing.
 * https://hl7.org/fhir/STU3/compartmentdefinition-patient.html
 */
export type Visibility = 'all' | 'compartment' | 'none';

export interface Access {
  /** Visibility of the types not named in `types`. */
  readonly default: Visibility;
  /** Per-type exceptions to `default`. */
  readonly types?: Readonly<Record<string, Visibility>>;
  /** The patients whose compartments 'compartment' types are confined to. */
  readonly patients: readonly string[];
  /**
   * How far the caller may write, when that differs from how far it may read: a write may
   * touch, and leave, a resource only where this lets the caller write.
   */
  readonly write?: { readonly default: Visibility; readonly types?: Readonly<Record<string, Visibility>> };
}

/** Everything: the open base, the commands, and the server's own work. */
export const EVERYTHING: Access = Object.freeze({ default: 'all', patients: Object.freeze([]) as readonly string[] });

/** How far `type` is visible under `access` (or, for 'write', writable). */
export function visibility(access: Access, type: string, mode: 'read' | 'write' = 'read'): Visibility {
  const scope = mode === 'write' && access.write ? access.write : access;
  return scope.types?.[type] ?? scope.default;
}

/** Whether `access` hides nothing. */
export function seesEverything(access: Access): boolean {
  if (access.default !== 'all') return false;
  return !access.types || Object.values(access.types).every((v) => v === 'all');
}

/**
 * The types of `types` split by visibility (types that are invisible are left out).
 * A 'compartment' type with no patients to be confined to sees nothing.
 */
export function splitTypes(access: Access, types: readonly string[]): { all: string[]; compartment: string[] } {
  const all: string[] = [];
  const compartment: string[] = [];
  for (const t of types) {
    const v = visibility(access, t);
    if (v === 'all') all.push(t);
    else if (v === 'compartment' && access.patients.length) compartment.push(t);
  }
  return { all, compartment };
}
