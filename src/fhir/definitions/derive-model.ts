import type { BindingDef, ConstraintDef, ElementDef, ModelJson, PrimitiveDef, TypeDef, TypeKind } from './model-types.js';

/** The parts of a StructureDefinition that the derivation reads. */
interface SdElement {
  path: string;
  min?: number;
  max?: string;
  base?: { max?: string };
  type?: Array<{ code?: string; targetProfile?: string; extension?: Array<{ url: string; valueString?: string }>; _code?: { extension?: Array<{ url: string; valueString?: string }> } }>;
  contentReference?: string;
  representation?: string[];
  isSummary?: boolean;
  isModifier?: boolean;
  constraint?: Array<{ key: string; severity: string; human: string; expression?: string }>;
  binding?: { strength: BindingDef['strength']; valueSetReference?: { reference?: string }; valueSetUri?: string };
}

export interface StructureDefinitionLike {
  id: string;
  url: string;
  name: string;
  kind: string;
  abstract?: boolean;
  derivation?: string;
  baseDefinition?: string;
  type?: string;
  snapshot?: { element: SdElement[] };
}

const REGEX_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-regex';
const JSON_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-json-type';
const SD_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * Derives the compact model from the base (non-constraint) StructureDefinitions.
 * https://hl7.org/fhir/STU3/elementdefinition.html
 */
export function deriveModel(sds: StructureDefinitionLike[], valueSets: ValueSetLike[] = []): ModelJson {
  const primitives: PrimitiveDef[] = [];
  const types: TypeDef[] = [];
  const base = sds.filter((sd) => sd.derivation !== 'constraint' && sd.kind !== 'logical' && sd.snapshot);
  for (const sd of base) {
    if (sd.kind === 'primitive-type') primitives.push(derivePrimitive(sd));
    const kind: TypeKind = sd.kind === 'resource' ? 'resource' : sd.kind === 'primitive-type' ? 'primitive' : 'complex';
    types.push(...deriveTypes(sd, kind));
  }
  const systems = singleSystems(valueSets);
  for (const t of types) {
    for (const e of t.elements) {
      const system = e.types.length === 1 && e.types[0] === 'code' && e.binding?.valueSet ? systems.get(e.binding.valueSet) : undefined;
      if (system) e.implicitSystem = system;
    }
  }
  primitives.sort((a, b) => a.name.localeCompare(b.name));
  types.sort((a, b) => a.name.localeCompare(b.name));
  return { fhirVersion: '3.0.2', primitives, types };
}

export interface ValueSetLike {
  url: string;
  compose?: { include?: Array<{ system?: string; valueSet?: string[] }> };
}

/** Value sets whose codes all come from one code system (nothing imported): their system. */
function singleSystems(valueSets: ValueSetLike[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const vs of valueSets) {
    const includes = vs.compose?.include ?? [];
    const systems = new Set(includes.map((i) => i.system));
    if (includes.length && systems.size === 1 && !includes.some((i) => i.valueSet?.length || !i.system)) out.set(vs.url, [...systems][0]!);
  }
  return out;
}

function derivePrimitive(sd: StructureDefinitionLike): PrimitiveDef {
  const value = sd.snapshot!.element.find((e) => e.path === `${sd.name}.value`);
  const t = value?.type?.[0];
  const regex = t?.extension?.find((x) => x.url === REGEX_EXT)?.valueString;
  const jsonType = (t?._code?.extension?.find((x) => x.url === JSON_TYPE_EXT)?.valueString ?? 'string') as PrimitiveDef['jsonType'];
  return regex ? { name: sd.name, jsonType, regex } : { name: sd.name, jsonType };
}

/** One TypeDef for the type itself and one per backbone element inside it. */
function deriveTypes(sd: StructureDefinitionLike, kind: TypeKind): TypeDef[] {
  const elements = sd.snapshot!.element;
  const root = elements[0]!;
  const childrenOf = new Map<string, SdElement[]>();
  for (const e of elements.slice(1)) {
    const parent = e.path.slice(0, e.path.lastIndexOf('.'));
    const list = childrenOf.get(parent) ?? [];
    list.push(e);
    childrenOf.set(parent, list);
  }
  const out: TypeDef[] = [];
  const main: TypeDef = {
    name: sd.name,
    kind,
    url: sd.url,
    elements: (childrenOf.get(root.path) ?? []).map((e) => deriveElement(e, childrenOf)),
  };
  if (sd.abstract) main.abstract = true;
  if (sd.baseDefinition) main.base = sd.baseDefinition.replace(SD_PREFIX, '');
  const rootConstraints = constraintsOf(root);
  if (rootConstraints) main.constraints = rootConstraints;
  out.push(main);
  for (const [path, children] of childrenOf) {
    if (path === root.path) continue;
    const el = elements.find((e) => e.path === path)!;
    const def: TypeDef = { name: path, kind: 'backbone', elements: children.map((e) => deriveElement(e, childrenOf)) };
    const c = constraintsOf(el);
    if (c) def.constraints = c;
    out.push(def);
  }
  return out;
}

function deriveElement(e: SdElement, childrenOf: Map<string, SdElement[]>): ElementDef {
  const last = e.path.slice(e.path.lastIndexOf('.') + 1);
  const choice = last.endsWith('[x]');
  const name = choice ? last.slice(0, -3) : last;
  const max = e.max === '*' ? -1 : Number(e.max ?? '1');
  const baseMax = e.base?.max ?? e.max ?? '1';
  let types: string[];
  if (e.contentReference) types = [e.contentReference.slice(1)];
  else if (childrenOf.has(e.path)) types = [e.path];
  else types = [...new Set((e.type ?? []).map((t) => t.code ?? primitiveCodeOf(t)))];
  const def: ElementDef = {
    name,
    path: e.path,
    min: e.min ?? 0,
    max,
    array: baseMax === '*' || Number(baseMax) > 1,
    types,
  };
  if (choice) def.choice = true;
  if (e.representation?.includes('xmlAttr')) def.xmlAttr = true;
  if (e.isSummary) def.summary = true;
  if (e.isModifier) def.modifier = true;
  const targets = (e.type ?? [])
    .filter((t) => t.code === 'Reference' && t.targetProfile)
    .map((t) => t.targetProfile!.replace(SD_PREFIX, ''));
  if (targets.length) def.targets = [...new Set(targets)];
  if (e.binding) {
    const valueSet = e.binding.valueSetReference?.reference ?? e.binding.valueSetUri;
    def.binding = valueSet ? { strength: e.binding.strength, valueSet } : { strength: e.binding.strength };
  }
  const c = constraintsOf(e);
  if (c) def.constraints = c;
  return def;
}

/** Element.id and Extension.url carry no code, only the JSON type extension. */
function primitiveCodeOf(t: NonNullable<SdElement['type']>[number]): string {
  const jsonType = t._code?.extension?.find((x) => x.url === JSON_TYPE_EXT)?.valueString;
  return jsonType === 'boolean' ? 'boolean' : 'string';
}

function constraintsOf(e: SdElement): ConstraintDef[] | undefined {
  if (!e.constraint?.length) return undefined;
  return e.constraint.map((c) => {
    const def: ConstraintDef = { key: c.key, severity: c.severity === 'warning' ? 'warning' : 'error', human: c.human };
    if (c.expression) def.expression = c.expression;
    return def;
  });
}
