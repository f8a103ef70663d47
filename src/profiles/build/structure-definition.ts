import { sliceBy, uri, type ExtensionDef, type ExtensionSlot, type ProfileDef, type Rule, type Rules, type TypedValue } from '../dsl.js';
import { hl7Definition } from '../urls.js';
import { baseDefinition, type ElementDefinition } from './base.js';
import { canonicalHead } from './canonical.js';
import { SnapshotBuilder } from './snapshot.js';

/**
 * Turns a profile or extension definition into a StructureDefinition with a
 * differential (what the definition states) and a snapshot (the base snapshot with the
 * differential applied).
 * https://hl7.org/fhir/STU3/structuredefinition.html
 */

const PURPOSE = 'Written by the Care Connect Reference Implementation project from the published HL7 UK Care Connect STU3 profiles (release 1, December 2018).';
const EXTENSION_SLICING = { discriminator: [{ type: 'value', path: 'url' }], description: 'Extensions are always sliced by (at least) url', rules: 'open' };

type StructureDefinitionJson = Record<string, unknown> & { resourceType: 'StructureDefinition'; url: string };

/** Resolves the maximum of an extension definition's root, for slots that leave their maximum open. */
export type ExtensionMax = (url: string) => string | undefined;

export function buildProfile(def: ProfileDef, extensionMax: ExtensionMax): StructureDefinitionJson {
  const rules: Rules = def.extensions ? { '': { extensions: def.extensions }, ...def.rules } : def.rules;
  return structureDefinition(def, def.type, 'resource', rules, {}, extensionMax);
}

export function buildExtension(def: ExtensionDef, extensionMax: ExtensionMax): StructureDefinitionJson {
  const rules: Rules = { '': { ...(def.min !== undefined ? { min: def.min } : {}), ...(def.max !== undefined ? { max: def.max } : {}) } };
  if (def.parts) {
    const slices: Record<string, Rule> = {};
    for (const [name, part] of Object.entries(def.parts)) {
      slices[name] = {
        ...(part.min !== undefined ? { min: part.min } : {}),
        ...(part.max !== undefined ? { max: part.max } : {}),
        children: { url: { fixed: uri(name) }, 'value[x]': part.value },
      };
    }
    rules.extension = { slicing: sliceBy('url', 'open', undefined), slices };
  }
  rules.url = { fixed: uri(def.url) };
  rules['value[x]'] = def.parts ? { max: 0 } : (def.value ?? {});
  return structureDefinition(def, 'Extension', 'complex-type', rules, { contextType: 'resource', context: def.context }, extensionMax);
}

function structureDefinition(
  def: ProfileDef | ExtensionDef,
  type: string,
  kind: string,
  rules: Rules,
  extra: Record<string, unknown>,
  extensionMax: ExtensionMax,
): StructureDefinitionJson {
  const snapshot = new SnapshotBuilder(baseDefinition(type));
  const stated = new Map<string, Partial<ElementDefinition>>();
  const state = (id: string, props: Partial<ElementDefinition>) => stated.set(id, { ...stated.get(id), ...props });
  const root = snapshot.root;
  root.short = def.title;
  root.definition = def.description;
  state(root.id, {});
  applyRules(snapshot, root.id, rules, state, extensionMax);
  const differential = snapshot.elements
    .filter((e) => stated.has(e.id))
    .map((e) => ({ id: e.id, path: e.path, ...(e.sliceName ? { sliceName: e.sliceName } : {}), ...stated.get(e.id) }));
  return {
    ...canonicalHead('StructureDefinition', def),
    purpose: PURPOSE,
    fhirVersion: '3.0.1',
    kind,
    abstract: false,
    ...extra,
    type,
    baseDefinition: hl7Definition(type),
    derivation: 'constraint',
    snapshot: { element: snapshot.elements },
    differential: { element: differential },
  };
}

type State = (id: string, props: Partial<ElementDefinition>) => void;

function applyRules(snapshot: SnapshotBuilder, baseId: string, rules: Rules, state: State, extensionMax: ExtensionMax): void {
  for (const [relative, rule] of Object.entries(rules)) applyRule(snapshot, relative ? `${baseId}.${relative}` : baseId, rule, state, extensionMax);
}

function applyRule(snapshot: SnapshotBuilder, id: string, rule: Rule, state: State, extensionMax: ExtensionMax): void {
  const element = snapshot.ensure(id);
  const props: Partial<ElementDefinition> = {};
  if (rule.min !== undefined) props.min = rule.min;
  if (rule.max !== undefined) props.max = String(rule.max);
  if (rule.type) props.type = rule.type.map((t) => ({ ...t }));
  if (rule.fixed) Object.assign(props, typedValue('fixed', rule.fixed));
  if (rule.pattern) Object.assign(props, typedValue('pattern', rule.pattern));
  if (rule.binding) props.binding = binding(element, rule.binding.strength, rule.binding.valueSet);
  if (rule.slicing) props.slicing = { ...rule.slicing };
  Object.assign(element, props);
  state(id, props);
  if (rule.extensions) addSlots(snapshot, id, rule.extensions, state, extensionMax);
  for (const [name, slice] of Object.entries(rule.slices ?? {})) applyRule(snapshot, `${id}:${name}`, slice, state, extensionMax);
  if (rule.children) applyRules(snapshot, id, rule.children, state, extensionMax);
}

/** Extension slots: `<id>.extension` sliced by url, one slice per slot, typed with the extension's URL. */
function addSlots(snapshot: SnapshotBuilder, id: string, slots: Record<string, ExtensionSlot>, state: State, extensionMax: ExtensionMax): void {
  const extensionId = `${id}.extension`;
  const extension = snapshot.ensure(extensionId);
  if (!extension.slicing) {
    extension.slicing = structuredClone(EXTENSION_SLICING);
    state(extensionId, { slicing: extension.slicing });
  }
  for (const [name, s] of Object.entries(slots)) {
    const sliceId = `${extensionId}:${name}`;
    const slice = snapshot.ensure(sliceId);
    const props: Partial<ElementDefinition> = {
      min: s.min ?? 0,
      max: s.max !== undefined ? String(s.max) : (extensionMax(s.url) ?? '*'),
      type: [{ code: 'Extension', profile: s.url }],
    };
    Object.assign(slice, props);
    state(sliceId, { type: props.type, ...(s.min !== undefined ? { min: s.min } : {}), ...(s.max !== undefined ? { max: String(s.max) } : {}) });
  }
}

function typedValue(prefix: string, value: TypedValue): Record<string, unknown> {
  const entries = Object.entries(value);
  if (entries.length !== 1) throw new Error(`A ${prefix} value names exactly one type: ${JSON.stringify(value)}`);
  const [type, v] = entries[0]!;
  return { [`${prefix}${type.charAt(0).toUpperCase()}${type.slice(1)}`]: v };
}

/** The binding with a new strength and (unless only the strength changes) a new value set. */
function binding(element: ElementDefinition, strength: string, valueSet: string | undefined): Record<string, unknown> {
  const base = element.binding ?? {};
  const description = typeof base.description === 'string' ? { description: base.description } : {};
  if (valueSet) return { strength, ...description, valueSetReference: { reference: valueSet } };
  if (!base.valueSetReference && !base.valueSetUri) throw new Error(`${element.id} has no base binding whose strength could change`);
  const { extension: _extension, strength: _strength, ...rest } = base;
  return { strength, ...rest };
}
