import { createHash } from 'node:crypto';
import { extensions, profiles } from '../definitions/index.js';
import { codeSystems, valueSets } from '../terminology/index.js';
import { buildExtension, buildProfile } from './structure-definition.js';
import { buildCodeSystem, buildValueSet, wholeSystemValueSet } from './terminology.js';

/** Bump when the generator's output changes shape for the same definitions (the cache is keyed by this too). */
export const GENERATOR_VERSION = 1;

export type ConformanceResource = Record<string, unknown> & { resourceType: 'StructureDefinition' | 'ValueSet' | 'CodeSystem'; id: string; url: string };

export interface GeneratedConformance {
  structureDefinitions: ConformanceResource[];
  valueSets: ConformanceResource[];
  codeSystems: ConformanceResource[];
}

/** Generates every Care Connect conformance resource from the definitions (reads the base definitions package). */
export function generateConformance(): GeneratedConformance {
  const roots = new Map(extensions.map((e) => [e.url, e.max === undefined ? undefined : String(e.max)]));
  const extensionMax = (url: string) => (roots.has(url) ? (roots.get(url) ?? '*') : undefined);
  return {
    structureDefinitions: [...profiles.map((p) => buildProfile(p, extensionMax)), ...extensions.map((e) => buildExtension(e, extensionMax))] as ConformanceResource[],
    valueSets: valueSets.map(buildValueSet) as ConformanceResource[],
    codeSystems: codeSystems.map((cs) => buildCodeSystem(cs, wholeSystemValueSet(cs, valueSets))) as ConformanceResource[],
  };
}

/** A short hash of the definitions and the generator version: the generated set is cached under it. */
export function definitionsFingerprint(): string {
  return createHash('sha256')
    .update(JSON.stringify([GENERATOR_VERSION, profiles, extensions, codeSystems, valueSets]))
    .digest('hex')
    .slice(0, 12);
}
