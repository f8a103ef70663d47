import { dateRange, MAX_INSTANT, MIN_INSTANT } from '../fhir/dates.js';
import { canonicalQuantity } from './ucum.js';
import { emptyIndexRows, type Indexer, type IndexRows } from './index-rows.js';
import { MAX_INDEXED, normalise, normaliseText } from './normalise.js';
import { compilePath, compileRelativePath, type PathFn, type TypedValue } from './paths.js';
import { compositeSupported } from './parse/query.js';
import { indexKey, type ParamDef, type SearchRegistry, splitUnion } from './registry.js';
import { parseReference } from './references.js';

type Obj = Record<string, unknown>;

/**
 * The encoding of the index rows. Change it whenever what is extracted changes, so that
 * stores written before reindex themselves when they open (store/sql/sql-store.ts).
 * 2: rows per index key (a union part shared by parameters); one row per code, with the
 * system its binding implies. 3: SQLite's full-text index as two tables without positions. 4: `_content` without
 * references and dates.
 */
export const INDEX_FORMAT = '4';

/** One index key of a type: the compiled union part and how its values become rows. */
interface CompiledKey {
  /** The key rows are stored under (registry.ts, indexKeys). */
  key: string;
  /** A parameter with this key: its type, and for a composite its components. */
  def: ParamDef;
  path: PathFn;
  /** For a composite: the two components, relative to each item the expression finds. */
  components?: [RelativeFn, RelativeFn];
}

type RelativeFn = (node: TypedValue) => TypedValue[];

export interface IndexerOptions {
  /** This server's base URL: absolute references under it index as local ones. */
  baseUrl?: string;
}

/**
 * Builds the write-time indexer from the registry: each index key (a union part of a
 * parameter's expression, shared by the parameters that have it) is compiled once, and
 * each resource is turned into index rows in one pass, one set of rows per key.
 * https://hl7.org/fhir/STU3/search.html
 */
export function createIndexer(registry: SearchRegistry, options: IndexerOptions = {}): Indexer {
  const compiled = new Map<string, { keys: CompiledKey[]; compartmentKeys: Set<string> }>();
  const forType = (type: string) => {
    let entry = compiled.get(type);
    if (!entry) {
      const keys = new Map<string, CompiledKey>();
      for (const def of registry.params(type)) {
        // No keys: _id and _lastUpdated (answered from the resource table), and no expression.
        if (!registry.keys(type, def.code).length) continue;
        for (const part of splitUnion(def.expression!)) {
          const key = indexKey(def, part);
          if (keys.has(key)) continue;
          const c = compileKey(key, def, part);
          if (c) keys.set(key, c);
        }
      }
      const compartmentKeys = new Set(registry.compartmentParams(type).flatMap((code) => registry.keys(type, code)));
      compiled.set(type, (entry = { keys: [...keys.values()], compartmentKeys }));
    }
    return entry;
  };

  return (resource) => {
    const type = String(resource.resourceType);
    const rows = emptyIndexRows();
    const { keys, compartmentKeys } = forType(type);
    for (const { key, def, path, components } of keys) {
      let values: TypedValue[];
      try {
        values = path(resource);
      } catch {
        continue;
      }
      if (components) for (const item of values) addCompositeRows(rows, key, def, item, components, options);
      else for (const v of values) addRows(rows, key, def.type, v, options);
    }
    if (registry.param(type, '_content')) rows.text = wordsOf(resource);
    if (compartmentKeys.size) {
      for (const [key, targetType, targetId] of rows.reference) {
        if (targetType === 'Patient' && targetId && compartmentKeys.has(key)) rows.compartments.push(targetId);
      }
    }
    return rows;
  };
}

function compileKey(key: string, def: ParamDef, part: string): CompiledKey | undefined {
  const path = compilePath(part);
  if (def.type !== 'composite') return { key, def, path };
  if (!compositeSupported(def)) return undefined;
  return { key, def, path, components: [compileRelativePath(def.components![0]!.expression)!, compileRelativePath(def.components![1]!.expression)!] };
}

/** One row per (first, second) pair found within the same item. */
function addCompositeRows(rows: IndexRows, key: string, def: ParamDef, item: TypedValue, [first, second]: [RelativeFn, RelativeFn], options: IndexerOptions): void {
  const [c1, c2] = def.components!;
  const firsts = componentKeys(c1!.type, first(item), options);
  if (!firsts.length) return;
  for (const v of second(item)) {
    for (const tail of componentTails(c2!.type, v, options)) {
      for (const [s1, k1] of firsts) rows.composite.push([key, s1, k1, ...tail]);
    }
  }
}

type Tail = [string | null, string | null, number | null, number | null, number | null, string | null, string | null];

/** The (system, code) pairs of a token (or reference) component. */
function componentKeys(type: ParamDef['type'], values: TypedValue[], options: IndexerOptions): Array<[string | null, string | null]> {
  const scratch = emptyIndexRows();
  for (const v of values) {
    if (type === 'reference') addReference(scratch, '', v, options);
    else addToken(scratch, '', v);
  }
  if (type === 'reference') return scratch.reference.map(([, t, id]) => [t, id]);
  return scratch.token.filter(([, , code]) => code !== null).map(([, system, code]) => [system, code]);
}

function componentTails(type: ParamDef['type'], v: TypedValue, options: IndexerOptions): Tail[] {
  const scratch = emptyIndexRows();
  switch (type) {
    case 'token':
    case 'reference':
      return componentKeys(type, [v], options).map(([s, c]) => [s, c, null, null, null, null, null]);
    case 'quantity':
      addQuantity(scratch, '', v);
      return scratch.quantity.map(([, value, system, code, unit, canon, canonUnit]) => [system, code ?? unit, value, value, canon, canonUnit, null]);
    case 'number':
      return typeof v.value === 'number' ? [[null, null, v.value, v.value, null, null, null]] : [];
    case 'date':
      addDate(scratch, '', v);
      return scratch.date.map(([, low, high]) => [null, null, low, high, null, null, null]);
    case 'string':
      addString(scratch, '', v);
      return scratch.string.map(([, norm]) => [null, null, null, null, null, null, norm]);
    default:
      return [];
  }
}

function addRows(rows: IndexRows, code: string, type: ParamDef['type'], v: TypedValue, options: IndexerOptions): void {
  switch (type) {
    case 'token':
      return addToken(rows, code, v);
    case 'string':
      return addString(rows, code, v);
    case 'date':
      return addDate(rows, code, v);
    case 'number': {
      // A number parameter over a Quantity (Encounter.length is a Duration) indexes its value.
      const n = typeof v.value === 'number' ? v.value : typeof v.value === 'object' && v.value !== null ? (v.value as Obj).value : undefined;
      if (typeof n === 'number') rows.number.push([code, n]);
      return;
    }
    case 'quantity':
      return addQuantity(rows, code, v);
    case 'reference':
      return addReference(rows, code, v, options);
    case 'uri':
      if (typeof v.value === 'string') rows.uri.push([code, v.value]);
      return;
    default:
      return;
  }
}

function addToken(rows: IndexRows, code: string, { type, value, system }: TypedValue): void {
  if (typeof value === 'boolean') {
    rows.token.push([code, null, String(value), null]);
    return;
  }
  if (typeof value === 'string') {
    // A code has the system its binding implies (`gender=http://hl7.org/fhir/administrative-gender|male`), if any.
    rows.token.push([code, system ?? null, value, null]);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const o = value as Obj;
  const str = (x: unknown) => (typeof x === 'string' ? x : null);
  switch (type) {
    case 'Coding':
      rows.token.push([code, str(o.system), str(o.code), textOf(o.display)]);
      return;
    case 'CodeableConcept':
      for (const c of Array.isArray(o.coding) ? (o.coding as Obj[]) : []) {
        if (c && typeof c === 'object') rows.token.push([code, str(c.system), str(c.code), textOf(c.display)]);
      }
      if (typeof o.text === 'string') rows.token.push([code, null, null, textOf(o.text)]);
      return;
    case 'Identifier':
      rows.token.push([code, str(o.system), str(o.value), textOf((o.type as Obj | undefined)?.text)]);
      return;
    case 'ContactPoint':
      rows.token.push([code, str(o.system), str(o.value), null]);
      return;
    default:
      if ('code' in o || 'system' in o) rows.token.push([code, str(o.system), str(o.code), textOf(o.display)]);
      else if ('value' in o) rows.token.push([code, str(o.system), str(o.value), null]);
  }
}

function textOf(x: unknown): string | null {
  return typeof x === 'string' && x ? normalise(x) : null;
}

const HUMAN_NAME_PARTS = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

function addString(rows: IndexRows, code: string, { type, value }: TypedValue): void {
  const add = (s: unknown) => {
    if (typeof s === 'string' && s.trim()) rows.string.push([code, normalise(s), s.slice(0, MAX_INDEXED)]);
  };
  if (typeof value === 'string') return add(value);
  if (typeof value !== 'object' || value === null) return;
  const o = value as Obj;
  const parts = type === 'HumanName' ? HUMAN_NAME_PARTS : type === 'Address' ? ADDRESS_PARTS : Object.keys(o);
  for (const key of parts) {
    const part = o[key];
    if (Array.isArray(part)) part.forEach(add);
    else add(part);
  }
}

function addDate(rows: IndexRows, code: string, { type, value }: TypedValue): void {
  if (typeof value === 'string') {
    const r = dateRange(value);
    if (r) rows.date.push([code, r.low, r.high]);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const o = value as Obj;
  if (type === 'Period' || 'start' in o || 'end' in o) {
    const start = typeof o.start === 'string' ? dateRange(o.start)?.low : undefined;
    const end = typeof o.end === 'string' ? dateRange(o.end)?.high : undefined;
    if (start !== undefined || end !== undefined) rows.date.push([code, start ?? MIN_INSTANT, end ?? MAX_INSTANT]);
    return;
  }
  if (type === 'Timing') {
    const events = (Array.isArray(o.event) ? o.event : []).map((e) => (typeof e === 'string' ? dateRange(e) : undefined)).filter((r) => r !== undefined);
    if (events.length) rows.date.push([code, Math.min(...events.map((e) => e.low)), Math.max(...events.map((e) => e.high))]);
    const bounds = (o.repeat as Obj | undefined)?.boundsPeriod as Obj | undefined;
    if (bounds) addDate(rows, code, { type: 'Period', value: bounds });
  }
}

function addQuantity(rows: IndexRows, code: string, { value }: TypedValue): void {
  if (typeof value !== 'object' || value === null) return;
  const o = value as Obj;
  if (typeof o.value !== 'number') return;
  const system = typeof o.system === 'string' ? o.system : null;
  const unitCode = typeof o.code === 'string' ? o.code : null;
  const unit = typeof o.unit === 'string' ? o.unit : null;
  const canon = system === 'http://unitsofmeasure.org' && unitCode ? canonicalQuantity(o.value, unitCode) : undefined;
  rows.quantity.push([code, o.value, system, unitCode, unit, canon?.value ?? null, canon?.unit ?? null]);
}

function addReference(rows: IndexRows, code: string, { value }: TypedValue, options: IndexerOptions): void {
  const ref = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as Obj).reference : undefined;
  if (typeof ref !== 'string' || !ref || ref.startsWith('#')) return;
  const parsed = parseReference(ref, options.baseUrl);
  // A local reference is found by its type and id; only one elsewhere needs its URL kept.
  rows.reference.push([code, parsed.type ?? null, parsed.id ?? null, parsed.type ? '' : ref]);
}

/** The text indexed for `_content` stops here. */
const MAX_TEXT = 20_000;

/**
 * `_text` indexes the narrative; `_content` the text of the resource: every string but
 * URLs, references (`Patient/123`) and dates, which are not words (a date split into
 * words gives `2020`, `05`, `14t10`, …) and have parameters of their own. References
 * and dates were nearly half of all the text. The text is folded once
 * (search/normalise.ts) and the full-text index splits it into words; search words are
 * folded the same way.
 */
function wordsOf(resource: Obj): { narrative: string; content: string } {
  const div = (resource.text as Obj | undefined)?.div;
  const narrative = typeof div === 'string' ? fold(div.replace(/<[^>]*>/g, ' ')) : '';
  const parts: string[] = [];
  collectStrings(resource, parts, { length: 0 }, 0);
  return { narrative, content: fold(parts.join(' ')) };
}

function fold(text: string): string {
  return normaliseText(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);
}

/** URLs, and FHIR dates, dateTimes and instants. */
const NOT_WORDS = /^(?:[a-z]+:\/\/|\d{4}(?:-\d\d(?:-\d\d(?:T[\d:.]+(?:Z|[+-]\d\d:\d\d)?)?)?)?$)/i;

function collectStrings(node: unknown, into: string[], size: { length: number }, depth: number): void {
  if (size.length >= MAX_TEXT || depth > 32) return;
  if (typeof node === 'string') {
    if (!NOT_WORDS.test(node)) {
      into.push(node);
      size.length += node.length + 1;
    }
  } else if (Array.isArray(node)) {
    for (const x of node) collectStrings(x, into, size, depth + 1);
  } else if (node && typeof node === 'object') {
    for (const k in node) {
      if (k === 'div' || k === 'resourceType' || k === 'id' || k === 'meta') continue;
      const v = (node as Obj)[k];
      // A Reference's `reference` is not text (its `display` is).
      if (k === 'reference' && typeof v === 'string') continue;
      collectStrings(v, into, size, depth + 1);
    }
  }
}
