import { hasOwn, identifier, isObject, quote, type WalkContext } from './context.js';
import type { TypePlan } from './plan.js';

/**
 * The few rules of the base definitions that are not plain shape or cardinality:
 * checked by the walk once an object's properties have been seen.
 */

/**
 * ext-1: an extension has either a value[x] or nested extensions, not both and not neither.
 * https://hl7.org/fhir/STU3/extensibility.html#Extension
 */
export function checkExtension(ext: Record<string, unknown>, hasValue: boolean, ctx: WalkContext): void {
  const hasChildren = hasOwn(ext, 'extension');
  if (hasValue === hasChildren) {
    const problem = hasValue ? 'either a value[x] or nested extensions, not both' : 'a value[x] or nested extensions';
    ctx.reportHere('invalid', `an extension must have ${problem} (ext-1)`);
  }
}

/**
 * The rules for a resource in `contained` (https://hl7.org/fhir/STU3/references.html#contained,
 * https://hl7.org/fhir/STU3/domainresource.html#invs): it has an id (it is referenced as `#id`),
 * holds no contained resources of its own (dom-2), no narrative (dom-1), and no
 * meta.versionId or meta.lastUpdated (dom-4).
 */
export function checkContained(res: Record<string, unknown>, ctx: WalkContext): void {
  const at = ctx.location();
  if (!hasOwn(res, 'id')) {
    ctx.report('required', `${at}: a contained resource must have an id (it is referenced as '#id')`, `${at}.id`);
  }
  if (hasOwn(res, 'contained')) {
    ctx.report('invalid', `${at}: a contained resource must not contain other resources (dom-2)`, `${at}.contained`);
  }
  if (hasOwn(res, 'text')) {
    ctx.report('invalid', `${at}: a contained resource must not have a narrative (dom-1)`, `${at}.text`);
  }
  const meta = res.meta;
  if (isObject(meta)) {
    for (const key of ['versionId', 'lastUpdated']) {
      if (hasOwn(meta, key)) ctx.report('invalid', `${at}: a contained resource must not have meta.${key} (dom-4)`, `${at}.meta.${key}`);
    }
  }
}

/** Reports each required element of `plan` that `obj` lacks (the walk calls this only when one is missing). */
export function reportMissing(obj: Record<string, unknown>, plan: TypePlan, ctx: WalkContext): void {
  for (const { element, names } of plan.required) {
    if (names.some((n) => hasOwn(obj, n))) continue;
    const at = `${ctx.location()}.${element.name}`;
    const shown = element.choice ? `${at}[x]` : at;
    ctx.report('required', `${shown}: minimum cardinality ${element.min} but found 0`, at);
  }
}

/** Reports a property that the type does not define, with a hint where one helps. */
export function reportUnknown(key: string, plan: TypePlan, ctx: WalkContext): void {
  const parent = ctx.location();
  const at = `${parent}.${identifier(key)}`;
  let hint = '';
  if (key.length > 1 && key.charCodeAt(0) === 95 /* _ */) {
    const base = plan.props.get(key.slice(1));
    if (base) hint = `: ${base.key} is not a primitive element, so it has no '_' form`;
  } else {
    const choice = plan.info.elements.find((e) => e.choice && e.name === key);
    if (choice) hint = `: write ${key}[x] with its type, e.g. ${key}${capitalise(choice.types[0] ?? '')}`;
  }
  ctx.report('structure', `Unknown element '${quote(key)}' in ${parent}${hint}`, at);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
