import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, cached } from '../fhir/definitions/cache.js';
import { ConformanceIndex } from '../fhir/conformance.js';
import { definitionsFingerprint, generateConformance, type GeneratedConformance } from './build/generate.js';
import { profiles } from './definitions/index.js';

/**
 * The Care Connect conformance resources as standard STU3 JSON: generated from the
 * definitions in this folder once, then read from the definitions cache (keyed by a
 * hash of the definitions, so an edited profile is regenerated).
 */

const CACHE_PREFIX = 'careconnect-';
let generated: GeneratedConformance | undefined;
let index: ConformanceIndex | undefined;

/** The generated StructureDefinitions, ValueSets and CodeSystems (from the cache when it is current). */
export function careConnectResources(): GeneratedConformance {
  if (!generated) {
    const name = `${CACHE_PREFIX}${definitionsFingerprint()}`;
    generated = cached(name, () => {
      removeStaleCaches(name);
      return generateConformance();
    });
  }
  return generated;
}

/**
 * Every StructureDefinition, ValueSet and CodeSystem this project carries, by canonical
 * URL: the source the profile validator reads them from.
 * https://hl7.org/fhir/STU3/profiling.html
 */
export function careConnectConformance(): ConformanceIndex {
  if (!index) {
    const built = new ConformanceIndex();
    const { structureDefinitions, valueSets, codeSystems } = careConnectResources();
    for (const r of [...structureDefinitions, ...valueSets, ...codeSystems]) built.add(r);
    index = built;
  }
  return index;
}

const profileByType = new Map(profiles.map((p) => [p.type, p.url]));

/**
 * The Care Connect profile URL of a resource type (`Patient` -> `…/CareConnect-Patient-1`),
 * if it has one: what the CapabilityStatement declares as `rest.resource.profile`.
 * https://hl7.org/fhir/STU3/capabilitystatement-definitions.html#CapabilityStatement.rest.resource.profile
 */
export function careConnectProfileFor(type: string): string | undefined {
  return profileByType.get(type);
}

/** Resource type -> Care Connect profile URL, for every profiled type. */
export function careConnectProfiles(): Record<string, string> {
  return Object.fromEntries(profileByType);
}

/** Caches of earlier versions of the definitions are of no further use. */
function removeStaleCaches(current: string): void {
  try {
    for (const f of readdirSync(cacheDir())) {
      if (/^careconnect-[0-9a-f]{12}\.json$/.test(f) && f !== `${current}.json`) rmSync(join(cacheDir(), f), { force: true });
    }
  } catch {
    // No cache folder yet, or a read-only one.
  }
}
