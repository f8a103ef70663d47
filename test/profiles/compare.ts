import { definitionOfType, type BaseDefinition, type ElementDefinition } from '../../src/profiles/build/base.js';
import type { Aspect } from '../../src/profiles/known-differences.js';
import type { Json } from './official.js';

/**
 * Compares an official Care Connect StructureDefinition with ours, element by element
 * (by snapshot element id), on what a validator acts on: cardinality, fixed and pattern
 * values, bindings, slicing and slices, and types with their (target) profiles.
 *
 * The official snapshots were made by Forge, which differs from ours in form only:
 * - it expands every data type down to its leaves; ours expands a data type only where
 *   the profile constrains inside it (as the STU3 base definitions do). An official
 *   element that our snapshot does not list is compared with the element of the data
 *   type definition it stands for (`Patient.name.period.start` -> `Period.start`);
 * - it writes a choice constrained to one type as `valueCodeableConcept:valueCodeableConcept`
 *   or `value[x]:valueCodeableConcept`; ours keeps `value[x]` with its types restricted.
 *   Those ids are read as `value[x]`;
 * - it writes the default slicing of every `extension` element (by url, open); an
 *   extension element without slicing is read as having it.
 */

export interface Difference {
  url: string;
  element?: string;
  aspect: Aspect;
  official?: string;
  ours?: string;
}

type Position = { kind: 'ours'; id: string } | { kind: 'base'; sd: BaseDefinition; path: string };

interface Resolved {
  id: string;
  element?: ElementDefinition;
}

const EXTENSION_DEFAULT_SLICING = 'value:url|open|false';

export function compareStructureDefinitions(official: Json, ours: Json): Difference[] {
  const url = official.url as string;
  const differences: Difference[] = [];
  const diff = (element: string, aspect: Aspect, o: unknown, u: unknown) => differences.push({ url, element, aspect, official: show(o), ours: show(u) });
  const ourElements = ours.snapshot.element as ElementDefinition[];
  const byId = new Map(ourElements.map((e) => [e.id, e]));
  const seen = new Set<string>();
  const slicesOfficial = new Map<string, string[]>();

  for (const o of official.snapshot.element as ElementDefinition[]) {
    const r = resolve(byId, o.id);
    seen.add(r.id);
    // A type slice (`valueCodeableConcept:valueCodeableConcept`) is read as its choice element, not as a slice.
    if (o.sliceName && r.id.endsWith(`:${o.sliceName}`)) {
      const sliced = r.id.slice(0, -(o.sliceName.length + 1));
      slicesOfficial.set(sliced, [...(slicesOfficial.get(sliced) ?? []), o.sliceName]);
    }
    if (!r.element) {
      diff(o.id, 'missing', describe(o), undefined);
      continue;
    }
    const u = r.element;
    if ((o.min ?? 0) !== (u.min ?? 0)) diff(o.id, 'min', o.min, u.min);
    if (o.max !== u.max) diff(o.id, 'max', o.max, u.max);
    const fo = fixedValues(o);
    const fu = fixedValues(u);
    if (fo !== fu) diff(o.id, 'fixed', fo, fu);
    const bo = bindingOf(o);
    const bu = bindingOf(u);
    if (bo !== bu) diff(o.id, 'binding', bo, bu);
    const so = slicingOf(o);
    const su = slicingOf(u);
    if (so !== su) diff(o.id, 'slicing', so, su);
    if (o.max !== '0' || u.max !== '0') {
      const to = typesOf(o);
      const tu = typesOf(u);
      if (to !== tu) diff(o.id, 'type', to, tu);
    }
  }

  // Slices by name, per sliced element, and our elements the official snapshot lacks.
  const slicesOurs = new Map<string, string[]>();
  for (const e of ourElements) {
    if (e.sliceName) {
      const sliced = e.id.slice(0, e.id.lastIndexOf(':'));
      slicesOurs.set(sliced, [...(slicesOurs.get(sliced) ?? []), e.sliceName]);
    }
    if (!seen.has(e.id)) diff(e.id, 'extra', undefined, describe(e));
  }
  for (const sliced of new Set([...slicesOfficial.keys(), ...slicesOurs.keys()])) {
    const so = (slicesOfficial.get(sliced) ?? []).join(', ');
    const su = (slicesOurs.get(sliced) ?? []).join(', ');
    if (so !== su) diff(sliced, 'slices', so, su);
  }
  return differences;
}

/**
 * Our element for an official element id: from our snapshot, or else from the definition
 * of the data type that the nearest element of our snapshot has.
 */
export function resolve(byId: Map<string, ElementDefinition>, officialId: string): Resolved {
  const [rootId, ...segments] = officialId.split('.');
  let id = rootId!;
  let position: Position | undefined = byId.has(id) ? { kind: 'ours', id } : undefined;
  for (const segment of segments) {
    const colon = segment.indexOf(':');
    let name = colon < 0 ? segment : segment.slice(0, colon);
    let slice = colon < 0 ? undefined : segment.slice(colon + 1);
    const names: Map<string, Position> = position ? childNames(byId, position) : new Map<string, Position>();
    if (!names.has(name)) {
      const choice = [...names.keys()].find((n) => n.endsWith('[x]') && isTypedName(name, n.slice(0, -3)));
      if (choice) {
        if (slice === name) slice = undefined;
        name = choice;
      }
    } else if (slice && name.endsWith('[x]') && isTypedName(slice, name.slice(0, -3))) {
      slice = undefined;
    }
    id = `${id}.${slice ? `${name}:${slice}` : name}`;
    let next: Position | undefined = names.get(name);
    if (next && slice) next = next.kind === 'ours' && byId.has(`${next.id}:${slice}`) ? { kind: 'ours', id: `${next.id}:${slice}` } : undefined;
    position = next;
  }
  if (!position) return { id };
  if (position.kind === 'ours') return { id, element: byId.get(position.id) };
  return { id, element: position.sd.snapshot.element.find((e) => e.path === position.path) };
}

function isTypedName(name: string, prefix: string): boolean {
  return name.length > prefix.length && name.startsWith(prefix) && /^[A-Z]/.test(name.slice(prefix.length));
}

/** The children of a position by name: our snapshot's, else those of the element's data type. */
function childNames(byId: Map<string, ElementDefinition>, position: Position): Map<string, Position> {
  const names = new Map<string, Position>();
  if (position.kind === 'ours') {
    const prefix = `${position.id}.`;
    for (const id of byId.keys()) {
      const rest = id.startsWith(prefix) ? id.slice(prefix.length) : '';
      if (rest && !rest.includes('.') && !rest.includes(':')) names.set(rest, { kind: 'ours', id });
    }
    if (names.size) return names;
    const element = byId.get(position.id)!;
    return typeChildren(element);
  }
  const prefix = `${position.path}.`;
  for (const e of position.sd.snapshot.element) {
    const rest = e.path.startsWith(prefix) ? e.path.slice(prefix.length) : '';
    if (rest && !rest.includes('.')) names.set(rest, { kind: 'base', sd: position.sd, path: e.path });
  }
  if (names.size) return names;
  const element = position.sd.snapshot.element.find((e) => e.path === position.path);
  return element ? typeChildren(element) : names;
}

function typeChildren(element: ElementDefinition): Map<string, Position> {
  const names = new Map<string, Position>();
  const codes = new Set((element.type ?? []).map((t) => t.code));
  if (codes.size !== 1 || element.contentReference) return names;
  let sd: BaseDefinition;
  try {
    sd = definitionOfType(element.type![0]!);
  } catch {
    return names;
  }
  return childNames(new Map(), { kind: 'base', sd, path: sd.snapshot.element[0]!.path });
}

function fixedValues(e: ElementDefinition): string {
  return Object.keys(e)
    .filter((k) => k.startsWith('fixed') || k.startsWith('pattern'))
    .sort()
    .map((k) => `${k}=${JSON.stringify(e[k])}`)
    .join(' ');
}

function bindingOf(e: ElementDefinition): string {
  const b = e.binding as Json | undefined;
  if (!b) return '';
  return `${b.strength} ${b.valueSetReference?.reference ?? b.valueSetUri ?? '(no value set)'}`;
}

function slicingOf(e: ElementDefinition): string {
  const s = e.slicing as Json | undefined;
  const isExtension = /\.(extension|modifierExtension)$/.test(e.path);
  if (!s) return isExtension ? EXTENSION_DEFAULT_SLICING : '';
  const discriminators = (s.discriminator ?? []).map((d: Json) => `${d.type}:${d.path}`).join(',');
  return `${discriminators}|${s.rules}|${s.ordered ?? false}`;
}

function typesOf(e: ElementDefinition): string {
  return (e.type ?? [])
    .map((t) => [t.code ?? '(none)', t.profile ? `profile=${t.profile}` : '', t.targetProfile ? `target=${t.targetProfile}` : ''].filter(Boolean).join(' '))
    .sort()
    .join(' | ');
}

function describe(e: ElementDefinition): string {
  return `${e.min ?? ''}..${e.max ?? ''} ${typesOf(e)}`;
}

function show(v: unknown): string | undefined {
  return v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
}
