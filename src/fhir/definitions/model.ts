import { cached } from './cache.js';
import { deriveModel, type StructureDefinitionLike, type ValueSetLike } from './derive-model.js';
import type { ElementDef, ModelJson, PrimitiveDef, TypeDef } from './model-types.js';
import { readPackageResources } from './package-files.js';

export type { ElementDef, PrimitiveDef, TypeDef } from './model-types.js';

/** What a JSON property name means inside a given type. */
export interface PropertyInfo {
  element: ElementDef;
  /** The concrete type (for a choice element, the one the suffix names). */
  type: string;
}

export interface TypeInfo extends TypeDef {
  /** JSON property name (choice names expanded, e.g. `valueQuantity`) -> element and type. */
  properties: Map<string, PropertyInfo>;
  /** Element name -> position, for the XML element order. */
  order: Map<string, number>;
}

/**
 * The STU3 model, derived once from the official definitions.
 * https://hl7.org/fhir/STU3/formats.html
 */
export class FhirModel {
  readonly types = new Map<string, TypeInfo>();
  readonly primitives = new Map<string, PrimitiveDef & { pattern?: RegExp }>();
  readonly resourceTypes: ReadonlySet<string>;

  constructor(json: ModelJson) {
    for (const p of json.primitives) {
      this.primitives.set(p.name, p.regex ? { ...p, pattern: new RegExp(`^(?:${p.regex})$`) } : p);
    }
    for (const t of json.types) this.types.set(t.name, indexType(t));
    this.resourceTypes = new Set(json.types.filter((t) => t.kind === 'resource' && !t.abstract).map((t) => t.name));
  }

  type(name: string): TypeInfo | undefined {
    return this.types.get(name);
  }

  isResourceType(name: string): boolean {
    return this.resourceTypes.has(name);
  }

  isPrimitive(name: string): boolean {
    return this.primitives.has(name);
  }

  /** The property `jsonName` of type `typeName`, or undefined when the type has no such element. */
  property(typeName: string, jsonName: string): PropertyInfo | undefined {
    return this.types.get(typeName)?.properties.get(jsonName);
  }
}

function indexType(t: TypeDef): TypeInfo {
  const properties = new Map<string, PropertyInfo>();
  const order = new Map<string, number>();
  t.elements.forEach((element, i) => {
    order.set(element.name, i);
    if (element.choice) {
      for (const type of element.types) {
        properties.set(element.name + type.charAt(0).toUpperCase() + type.slice(1), { element, type });
      }
    } else {
      properties.set(element.name, { element, type: element.types[0] ?? 'string' });
    }
  });
  return { ...t, properties, order };
}

let model: FhirModel | undefined;

/** The shared model (derived from the package on first use, then cached on disk). */
export function fhirModel(): FhirModel {
  model ??= new FhirModel(
    cached('model', () => deriveModel(readPackageResources<StructureDefinitionLike>('StructureDefinition'), readPackageResources<ValueSetLike>('ValueSet'))),
  );
  return model;
}
