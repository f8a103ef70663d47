import type { ElementDef } from '../fhir/definitions/model.js';
import { describe, hasOwn, isObject, MAX_DEPTH, quote, type WalkContext } from './context.js';
import { childPlan, planFor, PropKind, type PropPlan, type TypePlan } from './plan.js';
import { checkPrimitive } from './primitives.js';
import { checkContained, checkExtension, reportMissing, reportUnknown } from './rules.js';

/**
 * The recursive walk of a FHIR JSON value over the STU3 model
 * (https://hl7.org/fhir/STU3/json.html). Each object is checked against the plan
 * of its type: unknown properties, array-ness, cardinality, choice forms,
 * primitive values and their `_` siblings, empty objects (ele-1); resources are
 * walked by their own `resourceType`. Issues go to the context; nothing here throws.
 */

const enum Mode {
  /** A whole resource: `resourceType` is allowed, ele-1 does not apply. */
  Resource,
  /** A complex or backbone element. */
  Element,
  /** The `_name` object of a primitive: only `id` and `extension`. */
  PrimitiveExt,
}

/**
 * Walks a value that should be a whole resource (the root, `contained`,
 * `Bundle.entry.resource`, `Parameters.parameter.resource` ...). The context's
 * location must already point at the value.
 */
export function walkResource(value: unknown, ctx: WalkContext, contained = false): void {
  if (!isObject(value)) {
    ctx.reportSentence('structure', `must be a resource (a JSON object with a resourceType), but found ${describe(value)}`);
    return;
  }
  if (!hasOwn(value, 'resourceType')) {
    ctx.reportHere('required', 'resourceType is missing, so the resource cannot be checked');
    return;
  }
  const type = value.resourceType;
  if (typeof type !== 'string') {
    ctx.reportHere('structure', `resourceType must be a string, but found ${describe(type)}`);
    return;
  }
  const plan = ctx.model.isResourceType(type) ? planFor(ctx.model, type) : null;
  if (!plan) {
    const why = ctx.model.type(type)?.kind === 'resource' ? 'is abstract' : 'is not an STU3 resource type';
    ctx.reportHere('structure', `resourceType '${quote(type)}' ${why} (https://hl7.org/fhir/STU3/resourcelist.html)`);
    return;
  }
  walkObject(value, plan, ctx, Mode.Resource, false);
  if (contained) checkContained(value, ctx);
}

function walkObject(obj: Record<string, unknown>, plan: TypePlan, ctx: WalkContext, mode: Mode, valuePresent: boolean): void {
  if (ctx.depth >= MAX_DEPTH) {
    ctx.tooDeep();
    return;
  }
  ctx.depth++;
  let count = 0; // properties
  let children = 0; // properties other than id
  let seenRequired = 0;
  let choiceElements: ElementDef[] | undefined;
  let choiceKeys: string[] | undefined;
  // for-in: no key array to allocate; own properties only (inherited ones are not JSON).
  for (const key in obj) {
    if (ctx.stopped) break;
    if (!hasOwn(obj, key)) continue;
    count++;
    if (key !== 'id') children++;
    if (mode === Mode.Resource && key === 'resourceType') continue;
    const prop = plan.props.get(key);
    if (prop === undefined) {
      reportUnknown(key, plan, ctx);
      continue;
    }
    ctx.push(key);
    const element = prop.element;
    if (mode === Mode.PrimitiveExt && element.name === 'value') {
      ctx.reportHere('structure', "a primitive's value goes in the property without the '_', not in its '_' object");
    } else if (element.max === 0) {
      ctx.reportSentence('structure', `is not allowed (maximum cardinality 0 in ${element.path})`);
    } else {
      if (element.choice) {
        const form = prop.isExt ? prop.sibling : key;
        if (choiceElements === undefined || choiceKeys === undefined) {
          choiceElements = [element];
          choiceKeys = [form];
          if (prop.required) seenRequired++;
        } else {
          const at = choiceElements.indexOf(element);
          if (at === -1) {
            choiceElements.push(element);
            choiceKeys.push(form);
            if (prop.required) seenRequired++;
          } else if (choiceKeys[at] !== form) {
            ctx.reportHere('structure', `${element.name}[x] may appear in one form only, but ${choiceKeys[at]} is also present`);
          }
        }
      } else if (prop.required && (!prop.isExt || !hasOwn(obj, prop.sibling))) {
        seenRequired++;
      }
      walkProperty(obj[key], obj, prop, ctx);
    }
    ctx.pop();
  }
  // In a `_name` object the primitive's own value (xhtml.value is 1..1) is in the sibling property.
  if (seenRequired < plan.required.length && mode !== Mode.PrimitiveExt) reportMissing(obj, plan, ctx);
  if (plan.isExtension) checkExtension(obj, choiceElements !== undefined, ctx);
  if (mode !== Mode.Resource && children === 0) {
    if (count === 0) {
      ctx.reportHere('structure', 'empty objects are not allowed (ele-1: every element has a value or children)');
    } else if (mode === Mode.Element || !valuePresent) {
      const what = mode === Mode.Element ? 'children other than id' : 'a value or extensions';
      ctx.reportHere('structure', `the element has no ${what} (ele-1: every element has a value or children)`);
    }
  }
  ctx.depth--;
}

function walkProperty(value: unknown, obj: Record<string, unknown>, prop: PropPlan, ctx: WalkContext): void {
  const element = prop.element;
  if (element.array) {
    if (!Array.isArray(value)) {
      ctx.reportSentence('structure', `must be an array (${element.path} may repeat), but found ${describe(value)}`);
      return;
    }
    if (value.length === 0) {
      ctx.reportHere('structure', 'empty arrays are not allowed; leave the property out instead');
      return;
    }
    if (element.max !== -1 && value.length > element.max) {
      ctx.reportHere('structure', `maximum cardinality ${element.max} but found ${value.length}`);
    }
    if (value.length < element.min && !prop.isExt) {
      ctx.reportHere('required', `minimum cardinality ${element.min} but found ${value.length}`);
    }
    if (prop.kind === PropKind.Primitive) {
      walkPrimitiveArray(value, obj, prop, ctx);
      return;
    }
    for (let i = 0; i < value.length && !ctx.stopped; i++) {
      ctx.push(i);
      walkItem(value[i], prop, ctx);
      ctx.pop();
    }
    return;
  }
  if (Array.isArray(value)) {
    ctx.reportSentence('structure', `must not be an array (${element.path} has maximum cardinality 1)`);
    return;
  }
  if (prop.kind === PropKind.Primitive) {
    if (prop.isExt) walkPrimitiveExt(value, prop, ctx, hasValue(obj, prop.sibling));
    else if (value === null || value === undefined) ctx.reportHere('structure', 'null is not allowed; leave the property out instead');
    else if (checkPrimitive(prop.rule!, value, ctx)) ctx.onElement?.(value, prop.type, element, ctx);
    return;
  }
  walkItem(value, prop, ctx);
}

/** One value of a complex or resource element (array item or single value). */
function walkItem(value: unknown, prop: PropPlan, ctx: WalkContext): void {
  if (prop.kind === PropKind.Resource) {
    if (ctx.onElement && isObject(value)) ctx.onElement(value, prop.type, prop.element, ctx);
    walkResource(value, ctx, prop.contained);
    return;
  }
  if (!isObject(value)) {
    ctx.reportSentence('structure', `must be an object (a ${prop.type}), but found ${describe(value)}`);
    return;
  }
  ctx.onElement?.(value, prop.type, prop.element, ctx);
  const plan = childPlan(ctx.model, prop);
  if (plan) walkObject(value, plan, ctx, Mode.Element, false);
}

/**
 * A repeating primitive: `given` and `_given` are parallel arrays, `null` filling
 * the side that has nothing at an index (https://hl7.org/fhir/STU3/json.html#primitive).
 */
function walkPrimitiveArray(values: unknown[], obj: Record<string, unknown>, prop: PropPlan, ctx: WalkContext): void {
  const other = hasOwn(obj, prop.sibling) ? obj[prop.sibling] : undefined;
  const others = Array.isArray(other) ? other : undefined;
  if (!prop.isExt && others !== undefined && others.length !== values.length) {
    ctx.reportHere('structure', `${prop.key} and ${prop.sibling} must have the same length, but have ${values.length} and ${others.length} items`);
  }
  for (let i = 0; i < values.length && !ctx.stopped; i++) {
    const item = values[i];
    ctx.push(i);
    if (item === null || item === undefined) {
      // Both sides null is reported once, from the value side.
      if (others === undefined || (!prop.isExt && !isObject(others[i]))) {
        const needs = prop.isExt ? 'has a value' : 'holds an id or extensions';
        ctx.reportHere('structure', `null is only allowed where ${prop.sibling}[${i}] ${needs}`);
      }
    } else if (prop.isExt) {
      walkPrimitiveExt(item, prop, ctx, others !== undefined && others[i] !== null && others[i] !== undefined);
    } else if (Array.isArray(item)) {
      ctx.reportHere('structure', 'arrays cannot be nested');
    } else if (checkPrimitive(prop.rule!, item, ctx)) {
      ctx.onElement?.(item, prop.type, prop.element, ctx);
    }
    ctx.pop();
  }
}

/** The `_name` object of a primitive: its id and extensions. */
function walkPrimitiveExt(value: unknown, prop: PropPlan, ctx: WalkContext, valuePresent: boolean): void {
  if (!isObject(value)) {
    ctx.reportSentence('structure', `must be an object holding the id and/or extensions of ${prop.sibling}, but found ${describe(value)}`);
    return;
  }
  const plan = childPlan(ctx.model, prop);
  if (!plan) return;
  walkObject(value, plan, ctx, Mode.PrimitiveExt, valuePresent);
}

function hasValue(obj: Record<string, unknown>, key: string): boolean {
  return hasOwn(obj, key) && obj[key] !== null && obj[key] !== undefined;
}
