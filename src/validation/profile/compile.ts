import type { ElementDef, FhirModel } from '../../fhir/definitions/model.js';
import type { ConformanceSource, StructureDefinition, ValueSet } from '../../fhir/conformance.js';
import { compileSlicing } from './discriminators.js';
import { compileConstraint, STRUCTURAL, type CompiledConstraint, type Constraint } from './invariants.js';
import type { Binding, Fixed, KeyForm, PlanNode, ProfilePlan } from './plan-types.js';
import { buildTree, type ElementJson, type RawNode } from './tree.js';

/**
 * Compiles a StructureDefinition into a {@link ProfilePlan}: its element tree (from
 * the snapshot, or the differential merged onto the base profile's tree), each node
 * compared with the base definition of the same element in the model and kept only
 * when the profile adds something (narrower cardinality or types, type profiles,
 * target profiles, fixed or pattern values, a different binding, new invariants,
 * slicing, maxLength). https://hl7.org/fhir/STU3/profiling.html
 */

export const CORE = 'http://hl7.org/fhir/StructureDefinition/';

interface TypeRef {
  code?: string;
  profile?: string;
  targetProfile?: string;
}

export interface CompileContext {
  model: FhirModel;
  source: ConformanceSource;
  /** Makes a value set contained in a profile findable by the URL its bindings are rewritten to. */
  containedValueSet(url: string, vs: ValueSet): void;
  /** The element tree of a profile by URL (for differentials built on another profile). */
  treeOf(url: string): RawNode | undefined;
}

/** The element tree of a StructureDefinition: its snapshot, or its differential over its base. */
export function profileTree(sd: StructureDefinition, cx: CompileContext, problems: string[]): RawNode | undefined {
  const type = sd.type as string;
  const snapshot = localBindings(sd, (sd.snapshot as { element?: ElementJson[] } | undefined)?.element, cx);
  if (snapshot?.length) return buildTree(snapshot, type);
  const differential = localBindings(sd, (sd.differential as { element?: ElementJson[] } | undefined)?.element, cx);
  if (!differential?.length) {
    problems.push(`${sd.url} has neither a snapshot nor a differential`);
    return undefined;
  }
  const baseUrl = typeof sd.baseDefinition === 'string' ? sd.baseDefinition : `${CORE}${type}`;
  let base: RawNode | undefined;
  if (baseUrl !== `${CORE}${type}`) {
    base = cx.treeOf(baseUrl);
    if (!base) problems.push(`the base profile ${baseUrl} of ${sd.url} is unknown: only its differential is checked`);
  }
  return buildTree(differential, type, base);
}

/** Bindings to value sets contained in the profile (`#v1`) are pointed at `{profile url}#v1`, registered with the engine. */
function localBindings(sd: StructureDefinition, elements: ElementJson[] | undefined, cx: CompileContext): ElementJson[] | undefined {
  const contained = Array.isArray(sd.contained) ? (sd.contained as Array<Record<string, unknown>>) : [];
  if (!elements || !contained.length) return elements;
  return elements.map((e) => {
    const b = e.binding as { valueSetReference?: { reference?: string } } | undefined;
    const ref = b?.valueSetReference?.reference;
    if (!ref?.startsWith('#')) return e;
    const vs = contained.find((c) => c.resourceType === 'ValueSet' && c.id === ref.slice(1));
    if (!vs) return e;
    const url = `${sd.url}${ref}`;
    cx.containedValueSet(url, { ...vs, url } as ValueSet);
    return { ...e, binding: { ...b, valueSetReference: { reference: url } } };
  });
}

export function compilePlan(sd: StructureDefinition, cx: CompileContext): ProfilePlan {
  const problems: string[] = [];
  const type = sd.type as string;
  const name = typeof sd.name === 'string' ? sd.name : sd.url;
  const tree = profileTree(sd, cx, problems);
  const root: PlanNode = { id: type, name: '', keys: [], array: false, children: [] };
  if (tree && cx.model.type(type)) {
    const compiled = compileNode(tree, [type], undefined, cx, type, [], true);
    if (compiled) Object.assign(root, compiled);
  } else if (tree) {
    problems.push(`${type} is not a type of the STU3 model`);
  }
  return { url: sd.url, name, type, root, problems };
}

function compileNode(raw: RawNode, types: string[], base: ElementDef | undefined, cx: CompileContext, fpBase: string, keys: KeyForm[], isRoot = false): PlanNode | undefined {
  const el = raw.el;
  const node: PlanNode = { id: elementId(raw), name: base?.name ?? '', keys, array: base?.array ?? false, children: [] };
  if (raw.sliceName !== undefined) node.sliceName = raw.sliceName;
  let active = raw.sliceName !== undefined;
  const baseMin = base?.min ?? 0;
  const baseMax = base?.max ?? (isRoot ? 1 : -1);
  const min = typeof el.min === 'number' ? el.min : undefined;
  const max = typeof el.max === 'string' ? (el.max === '*' ? -1 : Number(el.max)) : undefined;
  if (raw.sliceName !== undefined) {
    node.min = min ?? 0;
    node.max = max ?? baseMax;
  } else {
    if (min !== undefined && min > baseMin) (node.min = min), (active = true);
    if (max !== undefined && max !== -1 && (baseMax === -1 || max < baseMax)) (node.max = max), (active = true);
  }
  const refs = (Array.isArray(el.type) ? el.type : []) as TypeRef[];
  const codes = [...new Set(refs.map((t) => t.code).filter((c): c is string => typeof c === 'string'))];
  if (base && codes.length && codes.length < base.types.length && !isBackbone(cx.model, base)) {
    node.types = codes;
    active = true;
  }
  for (const t of refs) {
    if (t.code && t.profile && t.profile !== `${CORE}${t.code}` && !(t.code === 'Extension' && t.profile === `${CORE}Extension`)) {
      node.profiles ??= new Map();
      const list = node.profiles.get(t.code) ?? [];
      list.push(t.profile);
      node.profiles.set(t.code, list);
      active = true;
    }
  }
  const targets = targetRule(refs, base, cx);
  if (targets) (node.targets = targets), (active = true);
  for (const k of Object.keys(el)) {
    if (k.startsWith('fixed') && el[k] !== undefined) (node.fixed = { label: k, value: el[k] } satisfies Fixed), (active = true);
    if (k.startsWith('pattern') && el[k] !== undefined) (node.pattern = { label: k, value: el[k] } satisfies Fixed), (active = true);
  }
  const binding = bindingOf(el);
  if (binding && !(base?.binding && base.binding.strength === binding.strength && base.binding.valueSet === binding.valueSet)) {
    node.binding = binding;
    active = true;
  }
  const constraints = newConstraints(el, base, types, cx, fpBase, isRoot);
  if (constraints.length) (node.constraints = constraints), (active = true);
  if (typeof el.maxLength === 'number') (node.maxLength = el.maxLength), (active = true);

  // Children: by the node's own (possibly restricted) types, or the base element's.
  const childTypes = valueTypes(base, codes, cx.model, types, isRoot);
  const byBase = new Map<string, PlanNode[]>();
  for (const child of raw.children.values()) {
    const found = findElement(cx.model, childTypes, child.name);
    if (!found) continue;
    const childFp = `${fpBase}.${found.def.name}`;
    const compiled = compileNode(child, childTypes, found.def, cx, childFp, keyForms(cx.model, found.def, found.only));
    if (!compiled) continue;
    node.children.push(compiled);
    if (found.only) byBase.set(found.def.name, [...(byBase.get(found.def.name) ?? []), compiled]);
  }
  // A choice renamed to one type (`valueQuantity`) without a `value[x]` element: other types are not allowed.
  // So does a `value[x]` sliced by type with closed rules, its slices being the renamed elements.
  for (const [name, renamed] of byBase) {
    const allowed = renamed.flatMap((r) => r.keys.map((k) => k.type));
    const choice = raw.children.get(`${name}[x]`);
    if (choice) {
      const closed = (choice.el.slicing as { rules?: string } | undefined)?.rules === 'closed';
      const compiled = node.children.find((c) => c.name === name && c.keys.length > 1);
      if (closed && compiled && !compiled.types) compiled.types = allowed;
      else if (closed && !compiled) {
        const found = findElement(cx.model, childTypes, `${name}[x]`);
        if (found) node.children.push({ id: `${node.id}.${name}[x]`, name, keys: keyForms(cx.model, found.def), array: found.def.array, types: allowed, children: [] });
      }
      continue;
    }
    const found = findElement(cx.model, childTypes, `${name}[x]`);
    if (!found) continue;
    node.children.push({ id: `${node.id}.${name}[x]`, name, keys: keyForms(cx.model, found.def), array: found.def.array, types: allowed, children: [] });
  }
  if (node.children.length) active = true;
  const slicing = el.slicing as { discriminator?: Array<{ type?: string; path?: string }>; rules?: string; ordered?: boolean } | undefined;
  // A choice sliced by type has its slices written as the choice renamed (valueQuantity): see the parent.
  if (!(raw.name.endsWith('[x]') && !raw.slices.length) && (raw.slices.length || (slicing && slicing.rules === 'closed'))) {
    const slices = raw.slices
      .map((s) => ({ raw: s, node: compileNode(s, types, base, cx, fpBase, keys) }))
      .filter((s): s is { raw: RawNode; node: PlanNode } => s.node !== undefined);
    node.slicing = compileSlicing(slicing ?? {}, slices, raw, base, cx);
    active = true;
  }
  return active || isRoot ? node : undefined;
}

function elementId(raw: RawNode): string {
  if (typeof raw.el.id === 'string') return raw.el.id;
  return raw.sliceName !== undefined ? `${raw.path}:${raw.sliceName}` : raw.path;
}

function isBackbone(model: FhirModel, def: ElementDef): boolean {
  return model.type(def.types[0] ?? '')?.kind === 'backbone';
}

/** The types whose elements a node's children are: a backbone's synthesised type, or the value types. */
function valueTypes(base: ElementDef | undefined, codes: string[], model: FhirModel, rootTypes: string[], isRoot: boolean): string[] {
  if (isRoot || !base) return rootTypes;
  if (isBackbone(model, base) || base.types[0]?.includes('.')) return [base.types[0]!];
  const known = codes.filter((c) => model.type(c));
  return known.length ? known : base.types;
}

/** The model element a child name means: `identifier`, `value[x]`, or a renamed choice `valueQuantity` (only that type). */
export function findElement(model: FhirModel, types: string[], name: string): { def: ElementDef; only?: string } | undefined {
  const bare = name.endsWith('[x]') ? name.slice(0, -3) : name;
  for (const t of types) {
    const info = model.type(t);
    if (!info) continue;
    const direct = info.elements.find((e) => e.name === bare);
    if (direct) return { def: direct };
    for (const e of info.elements) {
      if (!e.choice || !name.startsWith(e.name)) continue;
      const suffix = name.slice(e.name.length);
      const type = e.types.find((ty) => ty.charAt(0).toUpperCase() + ty.slice(1) === suffix);
      if (type) return { def: e, only: type };
    }
  }
  return undefined;
}

export function keyForms(model: FhirModel, def: ElementDef, only?: string): KeyForm[] {
  const types = only ? [only] : def.types;
  return types.map((type) => ({
    key: def.choice ? def.name + type.charAt(0).toUpperCase() + type.slice(1) : def.name,
    type,
    primitive: model.isPrimitive(type),
  }));
}

function bindingOf(el: ElementJson): Binding | undefined {
  const b = el.binding as { strength?: string; valueSetReference?: { reference?: string }; valueSetUri?: string; description?: string } | undefined;
  const valueSet = b?.valueSetReference?.reference ?? b?.valueSetUri;
  if (!b?.strength || !valueSet) return undefined;
  const out: Binding = { strength: b.strength as Binding['strength'], valueSet };
  if (b.description) out.description = b.description;
  return out;
}

function newConstraints(el: ElementJson, base: ElementDef | undefined, types: string[], cx: CompileContext, fpBase: string, isRoot: boolean): CompiledConstraint[] {
  const list = (Array.isArray(el.constraint) ? el.constraint : []) as Array<Partial<Constraint> & { xpath?: string }>;
  if (!list.length) return [];
  const known = new Set<string>();
  for (const c of base?.constraints ?? []) known.add(c.key);
  for (const t of isRoot ? types : (base?.types ?? [])) {
    for (let info = cx.model.type(t); info; info = info.base ? cx.model.type(info.base) : undefined) {
      for (const c of info.constraints ?? []) known.add(c.key);
    }
  }
  const out: CompiledConstraint[] = [];
  for (const c of list) {
    if (!c.key || known.has(c.key) || STRUCTURAL.has(c.key) || !c.expression) continue;
    const compiled = compileConstraint({ key: c.key, severity: c.severity === 'warning' ? 'warning' : 'error', human: c.human ?? c.key, expression: c.expression }, fpBase);
    if (compiled) out.push(compiled);
  }
  return out;
}

/** The allowed target types of a Reference element, when the profile's target profiles narrow the base's. */
function targetRule(refs: TypeRef[], base: ElementDef | undefined, cx: CompileContext): PlanNode['targets'] {
  const profiles = refs.filter((t) => t.code === 'Reference' && t.targetProfile).map((t) => t.targetProfile!);
  if (!profiles.length) return undefined;
  const types = new Set<string>();
  for (const url of profiles) {
    const core = url.startsWith(CORE) ? url.slice(CORE.length) : undefined;
    const type = core && cx.model.type(core) ? core : (cx.source.structureDefinition(url)?.type as string | undefined);
    if (!type || type === 'Resource' || type === 'Any') return undefined; // cannot narrow
    types.add(type);
  }
  const baseTargets = base?.targets;
  if (baseTargets && baseTargets.length === types.size && baseTargets.every((t) => types.has(t))) return undefined;
  return { types, labels: profiles };
}
