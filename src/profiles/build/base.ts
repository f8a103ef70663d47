import { readPackageFile } from '../../fhir/definitions/package-files.js';

/**
 * The STU3 base StructureDefinitions (resources, data types, and the HL7 profiles of
 * data types such as SimpleQuantity) from the package `hl7.fhir.r3.examples`.
 */

/** An ElementDefinition in its JSON form; only the properties the generator touches are typed. */
export interface ElementDefinition {
  id: string;
  path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  type?: ElementType[];
  contentReference?: string;
  slicing?: Record<string, unknown>;
  binding?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ElementType {
  code?: string;
  profile?: string;
  targetProfile?: string;
  [key: string]: unknown;
}

export interface BaseDefinition {
  url: string;
  type: string;
  snapshot: { element: ElementDefinition[] };
}

const HL7_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';
const cache = new Map<string, BaseDefinition>();

/** The base definition of a resource or data type by name (`Patient`, `Coding`, `date`, `SimpleQuantity`). */
export function baseDefinition(name: string): BaseDefinition {
  let sd = cache.get(name);
  if (!sd) {
    sd = readPackageFile<BaseDefinition>(`StructureDefinition-${name}.json`);
    cache.set(name, sd);
  }
  return sd;
}

/** The definition whose children an element of this type has: its HL7 profile if it names one, else the type itself. */
export function definitionOfType(type: ElementType): BaseDefinition {
  if (type.profile?.startsWith(HL7_PREFIX)) return baseDefinition(type.profile.slice(HL7_PREFIX.length));
  if (!type.code) throw new Error('An element type without a code has no definition');
  return baseDefinition(type.code);
}
