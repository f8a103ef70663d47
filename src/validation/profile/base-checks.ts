import type { BindingDef, ConstraintDef } from '../../fhir/definitions/model-types.js';
import type { ElementDef, FhirModel } from '../../fhir/definitions/model.js';
import type { ElementHook } from '../context.js';
import { checkBinding, checkCoding, checkQuantity, isQuantityType } from './codes.js';
import { checkExtension } from './extensions.js';
import { compileConstraint, evaluate, STRUCTURAL, type CompiledConstraint } from './invariants.js';
import { checkNhsNumber } from './nhs-number.js';
import type { Binding } from './plan-types.js';
import type { Scope, Session } from './session.js';
import { isRecord } from './values.js';

/**
 * The checks of the base definitions that the structural walk does not make,
 * run from its `onElement` hook on every element it accepts: bindings of the base
 * elements, FHIRPath invariants (element and type constraints), reference target
 * types, extensions (by their definitions), codes against their code systems,
 * UCUM units, NHS numbers; and, for each nested resource (contained, Bundle entry,
 * Parameters), its own invariants and profile claims. What each (element, type)
 * needs is worked out once and kept.
 */

const enum Kind {
  Plain,
  Extension,
  Identifier,
  Coding,
  Quantity,
  Reference,
  Resource,
}

interface Actions {
  kind: Kind;
  binding?: Binding;
  constraints: CompiledConstraint[];
  targets?: ReadonlySet<string>;
}

const BINDABLE = new Set(['code', 'Coding', 'CodeableConcept', 'string', 'uri']);
const actionsByElement = new WeakMap<ElementDef, Map<string, Actions>>();

function actionsFor(model: FhirModel, element: ElementDef, type: string): Actions {
  let byType = actionsByElement.get(element);
  if (!byType) {
    byType = new Map();
    actionsByElement.set(element, byType);
  }
  let a = byType.get(type);
  if (!a) {
    a = compileActions(model, element, type);
    byType.set(type, a);
  }
  return a;
}

function compileActions(model: FhirModel, element: ElementDef, type: string): Actions {
  const info = model.type(type);
  const kind =
    info?.kind === 'resource' || type === 'Resource' ? Kind.Resource
    : type === 'Extension' ? Kind.Extension
    : type === 'Identifier' ? Kind.Identifier
    : type === 'Coding' ? Kind.Coding
    : type === 'Reference' ? Kind.Reference
    : isQuantityType(type) ? Kind.Quantity
    : Kind.Plain;
  const a: Actions = { kind, constraints: [] };
  if (kind === Kind.Resource) return a;
  const b = element.binding;
  if (b?.valueSet && (b.strength === 'required' || b.strength === 'extensible') && (BINDABLE.has(type) || kind === Kind.Quantity)) {
    a.binding = toBinding(b);
  }
  const seen = new Set<string>();
  const add = (c: ConstraintDef, base: string) => {
    if (seen.has(c.key) || STRUCTURAL.has(c.key) || !c.expression) return;
    seen.add(c.key);
    const compiled = compileConstraint({ key: c.key, severity: c.severity, human: c.human, expression: c.expression }, base);
    if (compiled) a.constraints.push(compiled);
  };
  for (const c of element.constraints ?? []) add(c, element.path.replace('[x]', ''));
  for (let t = info; t; t = t.base ? model.type(t.base) : undefined) for (const c of t.constraints ?? []) add(c, t.name);
  const targets = element.targets?.filter((t) => t !== 'Resource' && t !== 'Any');
  if (kind === Kind.Reference && targets?.length && targets.length === element.targets!.length) a.targets = new Set(targets);
  return a;
}

function toBinding(b: BindingDef): Binding {
  return { strength: b.strength, valueSet: b.valueSet! };
}

/** The hook that runs the base checks of a session (see {@link validateResource}). */
export function baseHook(s: Session): ElementHook {
  const model = s.engine.model;
  return (value, type, element, ctx) => {
    const scope = s.scopeAt(ctx.depth);
    const a = actionsFor(model, element, type);
    if (a.kind === Kind.Resource) {
      if (isRecord(value)) enterResource(s, value, ctx.location(), element.name === 'contained' ? scope.container : value, ctx.depth + 1);
      return;
    }
    if (a.constraints.length) {
      for (const c of a.constraints) {
        if (evaluate(c, value, scope.container) === 'fail') {
          s.report(c.severity, 'invariant', ctx.location(), `constraint ${c.key} failed: ${c.human} (${c.expression})`);
        }
      }
    }
    if (a.binding) checkBinding(s, a.binding, value, type, ctx.location(), element.path, true);
    // Inside an unknown extension, codes are not held to code systems: its definition, which would say which, is unknown.
    // (Asked of every element: the walk is depth first, so the first one not deeper than the extension is past it.)
    const opaque = s.inOpaque(ctx.depth);
    if (a.kind === Kind.Plain || !isRecord(value)) return;
    switch (a.kind) {
      case Kind.Extension:
        if (!checkExtension(s, value, element, ctx.location(), scope) && !opaque) s.opaqueDepth = ctx.depth;
        break;
      case Kind.Identifier:
        checkNhsNumber(s, value, ctx.location());
        break;
      case Kind.Coding:
        if (!opaque) checkCoding(s, value, ctx.location());
        break;
      case Kind.Quantity:
        if (!opaque) checkQuantity(s, value, ctx.location());
        break;
      case Kind.Reference:
        if (a.targets) checkTarget(s, value, a.targets, element, ctx.location(), scope);
        break;
    }
  };
}

/**
 * The hook that checks only the required bindings of the base definitions whose value
 * sets the server can expand completely (they go to `s.baseErrors`): what validation on
 * write checks besides the structure when profile validation is off.
 */
export function requiredBindingHook(s: Session): ElementHook {
  const model = s.engine.model;
  return (value, type, element, ctx) => {
    if (element.binding?.strength !== 'required') return;
    const a = actionsFor(model, element, type);
    if (a.binding) checkBinding(s, a.binding, value, type, ctx.location(), element.path, true);
  };
}

function checkTarget(s: Session, ref: Record<string, unknown>, targets: ReadonlySet<string>, element: ElementDef, location: string, scope: Scope): void {
  const type = s.referencedType(ref, scope.container);
  if (type && !targets.has(type)) {
    s.report('error', 'structure', `${location}.reference`, `a reference to a ${type} is not allowed at ${element.path}, which may refer to ${[...targets].join(', ')}`);
  }
}

/**
 * A nested resource (or the root): its type's invariants are evaluated now; its
 * base-definition plan and the profiles it claims are checked after the walk.
 */
export function enterResource(s: Session, resource: Record<string, unknown>, location: string, container: Record<string, unknown>, depth: number, explicit: string[] = []): void {
  const scope: Scope = { resource, location, container, depth };
  if (depth > 0) {
    s.scopes.push(scope);
    s.indexBundle(resource);
  } else {
    s.scopes[0] = scope;
  }
  const type = resource.resourceType;
  // Not a resource type: the structural walk reports it, and nothing more can be checked.
  if (typeof type !== 'string' || !s.engine.model.isResourceType(type)) return;
  const a = resourceActions(s.engine.model, type);
  for (const c of a) {
    if (evaluate(c, resource, container === resource ? resource : container) === 'fail') {
      s.report(c.severity, 'invariant', location, `constraint ${c.key} failed: ${c.human} (${c.expression})`);
    }
  }
  const meta = resource.meta;
  const claims = isRecord(meta) && Array.isArray(meta.profile) ? meta.profile.filter((p): p is string => typeof p === 'string') : [];
  s.pending.push({ scope, urls: [`http://hl7.org/fhir/StructureDefinition/${type}`], claimed: false, base: true });
  if (claims.length) s.pending.push({ scope, urls: claims, claimed: true });
  if (explicit.length) s.pending.push({ scope, urls: explicit, claimed: false });
}

const resourceConstraints = new Map<string, CompiledConstraint[]>();

function resourceActions(model: FhirModel, type: string): CompiledConstraint[] {
  let list = resourceConstraints.get(type);
  if (!list) {
    list = [];
    const seen = new Set<string>();
    for (let t = model.type(type); t; t = t.base ? model.type(t.base) : undefined) {
      for (const c of t.constraints ?? []) {
        if (seen.has(c.key) || STRUCTURAL.has(c.key) || !c.expression) continue;
        seen.add(c.key);
        const compiled = compileConstraint({ key: c.key, severity: c.severity, human: c.human, expression: c.expression }, type);
        if (compiled) list.push(compiled);
      }
    }
    resourceConstraints.set(type, list);
  }
  return list;
}
