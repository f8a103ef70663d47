import { atLeast, sliceBy, slot, uri, type Binding, type Max, type Rule, type Rules, type TypeRef } from './dsl.js';
import { ccProfile, hl7Definition, SCT_DESCRIPTION_ID, SNOMED } from './urls.js';

/**
 * Fragments that most Care Connect profiles repeat: the identifier rules, the SNOMED CT
 * coding slice, references to other Care Connect profiles.
 */

/** Core STU3 resources that Care Connect references without profiling them. */
const CORE = new Set([
  'ClinicalImpression', 'CarePlan', 'Device', 'DiagnosticReport', 'EpisodeOfCare', 'Group', 'MedicationAdministration',
  'PlanDefinition', 'Procedure', 'ProcedureRequest', 'QuestionnaireResponse', 'ReferralRequest', 'RelatedPerson',
  'Sequence', 'Substance', 'FamilyMemberHistory',
]);

/**
 * Reference types to the named targets: `Patient` is CareConnect-Patient-1, a name
 * prefixed `core:` is the core STU3 resource (`core:Group`).
 */
export function refs(...targets: string[]): TypeRef[] {
  return targets.map((t) => {
    if (t.startsWith('core:')) {
      const name = t.slice(5);
      if (!CORE.has(name)) throw new Error(`Not a known core reference target: ${name}`);
      return { code: 'Reference', targetProfile: hl7Definition(name) };
    }
    return { code: 'Reference', targetProfile: ccProfile(t) };
  });
}

/** A rule restricting a Reference element to the named targets (see {@link refs}). */
export function reference(...targets: string[]): Rule {
  return { type: refs(...targets) };
}

/** `identifier.system` and `.value` present, `.assigner` a Care Connect Organization: every clinical profile says this. */
export function identifierRules(path = 'identifier'): Rules {
  return {
    [`${path}.system`]: atLeast(1),
    [`${path}.value`]: atLeast(1),
    [`${path}.assigner`]: reference('Organization'),
  };
}

/** An identifier slice for one system: the system fixed, the value present, the assigner a Care Connect Organization. */
export function identifierSlice(system: string, max?: Max): Rule {
  return {
    ...(max !== undefined ? { max } : {}),
    children: { system: { min: 1, fixed: uri(system) }, value: atLeast(1), assigner: reference('Organization') },
  };
}

/** The author of an Annotation: a string or a reference to a person. */
export function noteAuthor(...people: string[]): Rule {
  return { type: [...refs('core:RelatedPerson'), { code: 'string' }, ...refs(...(people.length ? people : ['Patient', 'Practitioner']))] };
}

export interface SnomedOptions {
  binding?: Binding;
  /** `version` prohibited in the slice (some profiles say so). */
  noVersion?: boolean;
  /** Omit `ordered: false` from the slicing (some profiles leave it out). */
  unordered?: boolean;
  /** The slice's maximum: 1 unless given; null leaves the base maximum. */
  sliceMax?: Max | null;
}

/**
 * The rule for a `coding` element: sliced by system, with a `snomedCT` slice (0..1) whose
 * system is fixed to SNOMED CT, code and display required, and an optional SNOMED CT
 * description id extension.
 */
export function snomedCoding(options: SnomedOptions = {}): Rule {
  return {
    slicing: sliceBy('system', 'open', options.unordered ? undefined : false),
    slices: { snomedCT: snomedSlice(options) },
  };
}

export function snomedSlice(options: SnomedOptions = {}): Rule {
  const max = options.sliceMax === undefined ? 1 : options.sliceMax;
  return {
    ...(max === null ? {} : { max }),
    ...(options.binding ? { binding: options.binding } : {}),
    extensions: { snomedCTDescriptionID: slot(SCT_DESCRIPTION_ID) },
    children: {
      system: { min: 1, fixed: uri(SNOMED) },
      ...(options.noVersion ? { version: { max: 0 } } : {}),
      code: atLeast(1),
      display: atLeast(1),
    },
  };
}

/** `coding` restricted to one coding with system, code and display present. */
export function codedOnce(system?: string): Rules {
  return {
    coding: { min: 1, max: 1 },
    'coding.system': system ? { min: 1, fixed: uri(system) } : atLeast(1),
    'coding.code': atLeast(1),
    'coding.display': atLeast(1),
  };
}
