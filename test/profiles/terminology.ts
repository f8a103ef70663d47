import { readPackageResources } from '../../src/fhir/definitions/package-files.js';
import type { Aspect } from '../../src/profiles/known-differences.js';
import type { Json } from './official.js';

/**
 * The codes of a value set, compared as sets of `system|code`. An include over a whole
 * code system takes that system's codes (from the same side's code systems, else the STU3
 * package). A SNOMED CT filter cannot be expanded here: it stands for itself, as
 * `system where property op value [and ...]`, so two value sets agree on it only if they
 * state the same filter. Other filters of the form `concept = X` are evaluated (several
 * filters in one include must all hold, as FHIR says).
 */

const SNOMED = 'http://snomed.info/sct';

export interface TerminologyDifference {
  url: string;
  aspect: Aspect;
  official?: string;
  ours?: string;
}

let packageSystems: Map<string, Json> | undefined;

function packageCodeSystem(url: string): Json | undefined {
  packageSystems ??= new Map(readPackageResources<Json>('CodeSystem').map((cs) => [cs.url, cs]));
  return packageSystems.get(url);
}

export function codesOfSystem(cs: Json): string[] {
  const walk = (concepts: Json[] = []): string[] => concepts.flatMap((c) => [c.code as string, ...walk(c.concept)]);
  return walk(cs.concept).map((code) => `${cs.url}|${code}`);
}

export function codesOfValueSet(vs: Json, codeSystem: (url: string) => Json | undefined): Set<string> {
  const codes = new Set<string>();
  for (const include of vs.compose?.include ?? []) {
    const system = include.system as string;
    if (include.concept) {
      for (const c of include.concept) codes.add(`${system}|${c.code}`);
    } else if (include.filter) {
      const filters = include.filter as Json[];
      if (system !== SNOMED && filters.every((f) => f.property === 'concept' && f.op === '=')) {
        const values = new Set(filters.map((f) => f.value as string));
        if (values.size === 1) codes.add(`${system}|${[...values][0]}`);
      } else {
        codes.add(`${system} where ${filters.map((f) => `${f.property} ${f.op} ${f.value}`).join(' and ')}`);
      }
    } else {
      const cs = codeSystem(system) ?? packageCodeSystem(system);
      if (cs) for (const c of codesOfSystem(cs)) codes.add(c);
      else codes.add(`${system} (all codes, system unknown)`);
    }
  }
  return codes;
}

/** Missing and extra members, or undefined when the sets agree. */
export function compareSets(official: Set<string>, ours: Set<string>): { missing: string[]; extra: string[] } | undefined {
  const missing = [...official].filter((c) => !ours.has(c)).sort();
  const extra = [...ours].filter((c) => !official.has(c)).sort();
  return missing.length || extra.length ? { missing, extra } : undefined;
}
