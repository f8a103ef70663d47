import type { CompiledConstraint } from './invariants.js';

/**
 * A profile compiled for validation: per element, only what the profile adds to
 * the base definitions (those are checked by the structural walk and the base
 * checks), so that a resource is checked by following a small tree and never by
 * walking a snapshot. Compiled once per StructureDefinition URL (and source).
 */

export interface ProfilePlan {
  url: string;
  /** A short name for messages (`CareConnect-Patient-1`). */
  name: string;
  /** The constrained type (`Patient`, `Extension`, `Quantity`). */
  type: string;
  root: PlanNode;
  /** Why the profile could not be compiled completely (e.g. no snapshot or differential). */
  problems: string[];
}

/** One JSON property form of an element: `valueQuantity` is type Quantity. */
export interface KeyForm {
  key: string;
  type: string;
  primitive: boolean;
}

export interface Binding {
  strength: 'required' | 'extensible' | 'preferred' | 'example';
  valueSet: string;
  description?: string;
}

export interface Fixed {
  /** `fixedUri`, `patternCodeableConcept` ... */
  label: string;
  value: unknown;
}

export interface PlanNode {
  /** The element id, for messages (`Patient.identifier:nhsNumber.value`). */
  id: string;
  /** The element name in JSON without the type suffix (`value`), empty for the root. */
  name: string;
  /** The JSON forms this node matches (for a choice, one per allowed type). */
  keys: KeyForm[];
  /** Whether the element repeats (array in JSON). */
  array: boolean;
  sliceName?: string;
  /** Cardinality to check (only when the profile narrows it, and always for slices). */
  min?: number;
  /** -1: unbounded. */
  max?: number;
  /** Allowed type codes, when the profile restricts them. */
  types?: string[];
  /** Profiles the value must conform to, by type code (core type URLs left out). */
  profiles?: Map<string, string[]>;
  /** Allowed reference target resource types (null entry: any), when the profile narrows them. */
  targets?: { types: Set<string>; labels: string[] };
  fixed?: Fixed;
  pattern?: Fixed;
  binding?: Binding;
  constraints?: CompiledConstraint[];
  maxLength?: number;
  children: PlanNode[];
  slicing?: SlicingPlan;
}

export type DiscriminatorType = 'value' | 'exists' | 'pattern' | 'type' | 'profile';

export interface Discriminator {
  type: DiscriminatorType;
  path: string;
}

/** What a slice matcher may ask of the validator while matching. */
export interface MatchEnv {
  /** Whether a value conforms to a profile (a profile discriminator). */
  conforms(value: unknown, type: string, profileUrl: string): boolean;
  /** Whether a coded value is in a value set (a value discriminator on a bound element). */
  member(valueSet: string, value: unknown, type: string): boolean;
  /** What a reference points at (a `resolve()` discriminator): its type, and the resource when it is at hand. */
  resolve(reference: unknown): { type?: string; resource?: Record<string, unknown> };
}

/**
 * Whether an item (of the given type) belongs to a slice: 0 no; 2 yes, by a fixed or
 * pattern value, a type, a profile or an existence test; 1 yes, but only because the
 * slice does not pin the discriminator down (or by a value set binding), a weaker
 * match that a 2 for another slice takes precedence over.
 */
export type Matcher = (item: unknown, itemType: string, env: MatchEnv) => 0 | 1 | 2;

export interface SlicingPlan {
  discriminators: Discriminator[];
  rules: 'open' | 'closed' | 'openAtEnd';
  ordered: boolean;
  slices: Array<{ node: PlanNode; matches: Matcher; describe: string }>;
}
