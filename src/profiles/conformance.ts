import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, cached } from '../fhir/definitions/cache.js';
import { ConformanceIndex, type ConformanceSource, layered } from '../fhir/conformance.js';
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

let held: ConformanceIndex | undefined;
let served: ConformanceSource | undefined;

/**
 * CodeSystems and ValueSets the server holds besides its own (`ccri serve --definitions`,
 * CCRI_DEFINITIONS): consulted before the Care Connect ones by the validator, the terminology
 * operations and search's `:in`, `:below` and `:above`. Set once, before any of them is used.
 */
export function holdDefinitions(resources: ReadonlyArray<Record<string, unknown>>): void {
  if (served) throw new Error('holdDefinitions must be called before the server\'s conformance resources are first used');
  const index = new ConformanceIndex();
  for (const r of resources) {
    if (r.resourceType !== 'CodeSystem' && r.resourceType !== 'ValueSet') {
      throw new Error(`The definitions the server holds are CodeSystems and ValueSets; ${String(r.resourceType)}${typeof r.url === 'string' ? ` ${r.url}` : ''} is not one`);
    }
    if (typeof r.url !== 'string') throw new Error(`A ${r.resourceType} given to the server to hold has no url`);
    index.add(r);
  }
  held = index;
}

/** What the server validates and answers terminology with: the definitions it was given to hold over the Care Connect ones. */
export function serverConformance(): ConformanceSource {
  served ??= held ? layered(held, careConnectConformance()) : careConnectConformance();
  return served;
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
