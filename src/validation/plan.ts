import type { ElementDef, FhirModel, TypeInfo } from '../fhir/definitions/model.js';
import { primitiveRules, type PrimitiveRule } from './primitives.js';

/**
 * Per-type lookup tables for the walk, compiled lazily from the model the first
 * time a type is met, then reused: for each JSON property name of a type, what
 * it is (primitive, complex, resource; its `_` sibling; whether it is required),
 * so the walk does one Map lookup per property and no string work.
 */

/** What a property holds: a primitive value, an object of a complex or backbone type, or a whole resource. */
export const enum PropKind {
  Primitive,
  Complex,
  Resource,
}

/** What one JSON property name means in a type. */
export interface PropPlan {
  /** The JSON property name (`birthDate`, `_birthDate`, `valueQuantity`). */
  readonly key: string;
  readonly element: ElementDef;
  /** The concrete type (for a choice, the one the name says). */
  readonly type: string;
  readonly kind: PropKind;
  /** The primitive's rule (primitive kinds only). */
  readonly rule: PrimitiveRule | undefined;
  /** Whether this is the `_name` form of a primitive (its id and extensions). */
  readonly isExt: boolean;
  /** The other half of a primitive: `_name` for `name`, `name` for `_name`. */
  readonly sibling: string;
  /** The element has min > 0. */
  readonly required: boolean;
  /** `contained` of a DomainResource (dom-1, dom-2, dom-4 and an id apply). */
  readonly contained: boolean;
  /** The plan of the object type (complex, backbone, or for `_name` the primitive type); resolved on first use. */
  child: TypePlan | null | undefined;
}

/** An element with min > 0, and the JSON names that make it present. */
export interface RequiredElement {
  readonly element: ElementDef;
  /** Every JSON property name that makes the element present (choice forms and `_` forms). */
  readonly names: string[];
}

/** The compiled lookup tables of one type (resource, data type, backbone, or primitive for `_name` objects). */
export interface TypePlan {
  readonly name: string;
  readonly info: TypeInfo;
  readonly props: Map<string, PropPlan>;
  readonly required: RequiredElement[];
  /** `Extension`: ext-1 applies. */
  readonly isExtension: boolean;
}

const plansByModel = new WeakMap<FhirModel, Map<string, TypePlan | null>>();

/** The plan of a type, or null when the model does not know the type. */
export function planFor(model: FhirModel, typeName: string): TypePlan | null {
  let plans = plansByModel.get(model);
  if (!plans) {
    plans = new Map();
    plansByModel.set(model, plans);
  }
  let plan = plans.get(typeName);
  if (plan === undefined) {
    const info = model.type(typeName);
    plan = info ? compile(model, info) : null;
    plans.set(typeName, plan);
  }
  return plan;
}

/** The plan a property's object values are walked with (complex types, and `_name` objects). */
export function childPlan(model: FhirModel, prop: PropPlan): TypePlan | null {
  if (prop.child === undefined) prop.child = planFor(model, prop.type);
  return prop.child;
}

function compile(model: FhirModel, info: TypeInfo): TypePlan {
  const rules = primitiveRules(model);
  const props = new Map<string, PropPlan>();
  const required: RequiredElement[] = [];
  const requiredByElement = new Map<ElementDef, string[]>();
  for (const [key, { element, type }] of info.properties) {
    const rule = rules.get(type);
    const kind = rule ? PropKind.Primitive : isResourceType(model, type) ? PropKind.Resource : PropKind.Complex;
    const base = {
      element,
      type,
      kind,
      rule,
      required: element.min > 0,
      contained: element.name === 'contained' && kind === PropKind.Resource,
      child: undefined,
    };
    props.set(key, { ...base, key, isExt: false, sibling: `_${key}` });
    if (rule) props.set(`_${key}`, { ...base, key: `_${key}`, isExt: true, sibling: key });
    if (element.min > 0) {
      let names = requiredByElement.get(element);
      if (!names) {
        names = [];
        requiredByElement.set(element, names);
        required.push({ element, names });
      }
      names.push(key);
      if (rule) names.push(`_${key}`);
    }
  }
  return { name: info.name, info, props, required, isExtension: info.name === 'Extension' };
}

function isResourceType(model: FhirModel, type: string): boolean {
  return model.type(type)?.kind === 'resource';
}
