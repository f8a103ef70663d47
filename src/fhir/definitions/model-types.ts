/**
 * The compact STU3 model derived from the official StructureDefinitions.
 * It is what the JSON and XML codecs, the structural validator and the
 * search registry need, and nothing more.
 */

export type JsonPrimitiveType = 'string' | 'number' | 'boolean';

export interface PrimitiveDef {
  name: string;
  /** How the value is written in JSON. */
  jsonType: JsonPrimitiveType;
  /** The value's lexical rule from the definition, anchored when compiled. */
  regex?: string;
}

export interface ConstraintDef {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression?: string;
}

export interface BindingDef {
  strength: 'required' | 'extensible' | 'preferred' | 'example';
  valueSet?: string;
}

export interface ElementDef {
  /** The name without `[x]`. */
  name: string;
  path: string;
  min: number;
  /** -1 means unbounded. */
  max: number;
  /** Whether the element is a JSON array (from the base definition's max). */
  array: boolean;
  /** Type codes; a backbone element's type is the name of its synthesised type (its path). */
  types: string[];
  choice?: true;
  /** Written as an XML attribute (Element.id, Extension.url). */
  xmlAttr?: true;
  summary?: true;
  modifier?: true;
  /** Allowed reference targets (resource type names), when the element is a Reference. */
  targets?: string[];
  binding?: BindingDef;
  /**
   * For a `code` element bound to a value set of a single code system: that system, which
   * the code implies (`Patient.gender` -> http://hl7.org/fhir/administrative-gender).
   */
  implicitSystem?: string;
  constraints?: ConstraintDef[];
  /** Constraint keys that the element is the subject of (informational). */
}

export type TypeKind = 'primitive' | 'complex' | 'resource' | 'backbone';

export interface TypeDef {
  name: string;
  kind: TypeKind;
  abstract?: true;
  base?: string;
  /** The canonical URL of the defining StructureDefinition (none for backbones). */
  url?: string;
  elements: ElementDef[];
  /** Constraints declared on the type's root element. */
  constraints?: ConstraintDef[];
}

export interface ModelJson {
  fhirVersion: string;
  primitives: PrimitiveDef[];
  types: TypeDef[];
}
