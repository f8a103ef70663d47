import fhirpath from 'fhirpath';
import stu3Model from 'fhirpath/fhir-context/stu3/index.js';
import type { Condition, DateValue, NumberValue, QuantityValue, ReferenceValue, SearchPlan, SortKey, TokenValue } from '../../src/search/plan.js';
import { fhirModel } from '../../src/fhir/definitions/model.js';
import { type ParamDef, type SearchRegistry, splitUnion } from '../../src/search/registry.js';
import { add, cmp, dec, type Dec, mul, sub } from './decimal.js';

/**
 * An independent, in-memory FHIR STU3 search: the oracle of the differential
 * search test (differential.test.ts).
 *
 * It shares only the query parser with the server (it takes a SearchPlan). What a
 * resource holds for a parameter comes from evaluating the parameter's FHIRPath
 * `expression` with fhirpath.js and its STU3 model (not the server's paths.ts or
 * extract.ts), and the matching, sorting and paging rules below are written from
 * https://hl7.org/fhir/STU3/search.html. Numbers are compared as exact decimals;
 * dates are turned into ranges by a parser of its own.
 *
 * Where the specification leaves a choice, the evaluator follows the server's
 * documented choice, so that the test checks consistency (see
 * docs/search-differential.md):
 * - date prefixes follow the R4 wording (eq: the resource's range is inside the
 *   search range; gt: resource high > search high; ge: gt or eq; lt: resource low <
 *   search low; le: lt or eq; sa: resource low > search high; eb: resource high <
 *   search low; ne: not eq). A value is a date, a dateTime or instant (a range at its
 *   precision), or a Period (an open end is unbounded). Times without a zone are UTC.
 * - number prefixes: eq and ne use the precision the value was written with
 *   (`1.5` is [1.45, 1.55)); gt, lt, ge, le compare with the value itself; sa is gt
 *   and eb is lt.
 * - quantity: with the UCUM system and a known unit, compare in canonical units;
 *   otherwise compare the number as written, and the system and code when given
 *   (with no system, the code may match Quantity.code or Quantity.unit, as the STU3
 *   examples say for `5.4||mg`).
 * - token over ContactPoint uses ContactPoint.system as the token's system; a code
 *   has the system its element's binding implies (when the bound value set is of one
 *   code system), else none; a boolean or string has no system.
 * - the Patient compartment holds the Patient and every resource that refers to it
 *   through a parameter the STU3 CompartmentDefinition lists for the resource's type
 *   (for a Patient: `link`).
 * - sorting: ascending on the lowest value of the parameter, descending on the
 *   highest (dates: low bound ascending, high bound descending; strings: the
 *   case- and accent-folded form; tokens: the code; references: the target id;
 *   quantities: the number as written); resources without a value come last either
 *   way; ties keep insertion order.
 */

export interface MemoryResource {
  type: string;
  id: string;
  /** meta.lastUpdated, in epoch milliseconds. */
  lastUpdated: number;
  resource: Record<string, unknown>;
}

export interface MemoryPage {
  /** `Type/id` of the page's matches, in order. */
  ids: string[];
  total: number;
  more: boolean;
}

export interface MemorySearchOptions {
  /** References under this base are local ones. */
  baseUrl: string;
}

type Obj = Record<string, unknown>;

export const UCUM = 'http://unitsofmeasure.org';

/** The UCUM units the evaluator converts, with their canonical unit and exact factor. */
const UNITS: Record<string, { unit: string; factor: Dec }> = {
  ug: { unit: 'g', factor: dec('1e-6') },
  mg: { unit: 'g', factor: dec('1e-3') },
  g: { unit: 'g', factor: dec(1) },
  kg: { unit: 'g', factor: dec(1000) },
  s: { unit: 's', factor: dec(1) },
  min: { unit: 's', factor: dec(60) },
  h: { unit: 's', factor: dec(3600) },
  d: { unit: 's', factor: dec(86400) },
  wk: { unit: 's', factor: dec(604800) },
  // UCUM: a = 365.25 d (the Julian year), mo = a / 12.
  a: { unit: 's', factor: dec(31557600) },
  mo: { unit: 's', factor: dec(2629800) },
};

export function canonical(value: Dec, code: string | undefined): { value: Dec; unit: string } | undefined {
  const u = code === undefined ? undefined : UNITS[code];
  return u ? { value: mul(value, u.factor), unit: u.unit } : undefined;
}

// ---------------------------------------------------------------------------
// Values a resource holds for a parameter

export interface TokenEntry {
  system: string | null;
  code: string | null;
}
export interface Tokens {
  codes: TokenEntry[];
  /** Folded texts for :text (CodeableConcept.text, Coding.display, Identifier.type.text). */
  texts: string[];
}
export interface StringEntry {
  exact: string;
  norm: string;
}
export interface DateEntry {
  low: number;
  high: number;
}
export interface QuantityEntry {
  value: Dec;
  system?: string;
  code?: string;
  unit?: string;
}
export interface ReferenceEntry {
  type?: string;
  id?: string;
  /** The reference as written. */
  url: string;
}

type Extracted =
  | { kind: 'token'; tokens: Tokens }
  | { kind: 'string'; strings: StringEntry[] }
  | { kind: 'date'; dates: DateEntry[] }
  | { kind: 'number'; numbers: Dec[] }
  | { kind: 'quantity'; quantities: QuantityEntry[] }
  | { kind: 'reference'; references: ReferenceEntry[] }
  | { kind: 'uri'; uris: string[] }
  | { kind: 'none' };

function isEmpty(x: Extracted): boolean {
  switch (x.kind) {
    case 'token':
      return x.tokens.codes.length === 0 && x.tokens.texts.length === 0;
    case 'string':
      return x.strings.length === 0;
    case 'date':
      return x.dates.length === 0;
    case 'number':
      return x.numbers.length === 0;
    case 'quantity':
      return x.quantities.length === 0;
    case 'reference':
      return x.references.length === 0;
    case 'uri':
      return x.uris.length === 0;
    case 'none':
      return true;
  }
}

/** Case- and accent-insensitive form: decompose, drop combining marks, lower-case, collapse white space. */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Compares by Unicode code point (the order of SQLite's BINARY and PostgreSQL's "C" collation). */
export function codePointCompare(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d) return d < 0 ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** The instants a FHIR date, dateTime or instant denotes, at its precision (epoch ms, inclusive). */
export function dateRangeOf(text: string): DateEntry {
  const m = DATE.exec(text);
  if (!m) throw new Error(`evaluator: not a date: ${text}`);
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  if (year < 1000) throw new Error(`evaluator: years before 1000 are not handled: ${text}`);
  if (mo === undefined) return { low: Date.UTC(year, 0, 1), high: Date.UTC(year + 1, 0, 1) - 1 };
  if (d === undefined) return { low: Date.UTC(year, Number(mo) - 1, 1), high: Date.UTC(year, Number(mo), 1) - 1 };
  const day = Date.UTC(year, Number(mo) - 1, Number(d));
  if (h === undefined) return { low: day, high: day + 86_400_000 - 1 };
  const offsetMinutes = !tz || tz === 'Z' ? 0 : (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
  const start = day + Number(h) * 3_600_000 + Number(mi) * 60_000 + Number(s ?? 0) * 1000 - offsetMinutes * 60_000;
  if (s === undefined) return { low: start, high: start + 60_000 - 1 };
  if (frac === undefined) return { low: start, high: start + 999 };
  // Milliseconds are the finest the ranges keep: finer fractions fall within one millisecond.
  const digits = Math.min(frac.length, 3);
  const low = start + Number(frac.slice(0, digits)) * 10 ** (3 - digits);
  return { low, high: low + 10 ** (3 - digits) - 1 };
}

const LOCAL_ID = /^[A-Za-z0-9\-.]{1,64}$/;

// ---------------------------------------------------------------------------

interface Item {
  r: MemoryResource;
  /** Insertion order (the store's creation order). */
  order: number;
  key: string;
}

type Evaluator = (resource: Obj) => Array<{ type: string; value: unknown }>;

export class MemorySearch {
  private readonly items: Item[];
  private readonly byKey = new Map<string, Item>();
  private readonly resourceTypes: Set<string>;
  private readonly compiled = new Map<string, Evaluator>();
  private readonly cache = new Map<string, Extracted>();

  constructor(
    resources: MemoryResource[],
    private readonly registry: SearchRegistry,
    private readonly options: MemorySearchOptions,
  ) {
    this.items = resources.map((r, order) => ({ r: { ...r, resource: structuredClone(r.resource) }, order, key: `${r.type}/${r.id}` }));
    for (const item of this.items) this.byKey.set(item.key, item);
    this.resourceTypes = new Set(registry.types());
  }

  search(plan: SearchPlan): MemoryPage {
    const matches = this.filter(plan.where, plan.types);
    const sorted = this.sort(matches, plan.sort);
    const page = sorted.slice(plan.offset, plan.offset + plan.count);
    return { ids: page.map((i) => i.key), total: matches.length, more: plan.offset + plan.count < matches.length };
  }

  /** The resource with this `Type/id`, if current. */
  get(key: string): MemoryResource | undefined {
    return this.byKey.get(key)?.r;
  }

  /** What a resource holds for a parameter, for diagnostics. */
  describe(key: string, code: string): unknown {
    const item = this.byKey.get(key);
    if (!item) return undefined;
    const x = this.values(item, code);
    return JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v)));
  }

  private filter(where: Condition[], types: string[]): Item[] {
    let out = this.items.filter((i) => types.includes(i.r.type));
    for (const c of where) {
      const keep = this.matching(c, types);
      out = out.filter((i) => keep.has(i));
    }
    return out;
  }

  /** The items of `types` that satisfy `c`. */
  private matching(c: Condition, types: string[]): Set<Item> {
    const candidates = this.items.filter((i) => types.includes(i.r.type));
    switch (c.kind) {
      case 'chain': {
        const targets = new Set(this.filter([c.where], c.targetTypes).map((i) => i.key));
        return new Set(
          candidates.filter((i) =>
            this.references(i, c.param).some((ref) => ref.type !== undefined && c.targetTypes.includes(ref.type) && targets.has(`${ref.type}/${ref.id}`)),
          ),
        );
      }
      case 'has': {
        const sources = this.filter([c.where], [c.type]);
        const referenced = new Set<string>();
        for (const s of sources) for (const ref of this.references(s, c.param)) if (ref.type !== undefined) referenced.add(`${ref.type}/${ref.id}`);
        return new Set(candidates.filter((i) => referenced.has(i.key)));
      }
      case 'or': {
        const out = new Set<Item>();
        for (const x of c.any) for (const i of this.matching(x, types)) out.add(i);
        return out;
      }
      default:
        return new Set(candidates.filter((i) => this.test(i, c)));
    }
  }

  private references(i: Item, code: string): ReferenceEntry[] {
    const x = this.values(i, code);
    if (x.kind !== 'reference') throw new Error(`evaluator: ${i.r.type}.${code} is not a reference parameter`);
    return x.references;
  }

  /** A single-resource test. */
  private test(i: Item, c: Condition): boolean {
    switch (c.kind) {
      case 'none':
        return false;
      case 'token-set':
        throw new Error('evaluator: token :in/:below/:above are expanded by the server before searching; not generated here');
      case 'id':
        return c.values.includes(i.r.id) !== (c.not === true);
      case 'lastUpdated':
        return c.values.some((v) => dateMatches({ low: i.r.lastUpdated, high: i.r.lastUpdated }, v));
      case 'missing':
        return isEmpty(this.values(i, c.param)) === c.missing;
      case 'token': {
        const x = this.expect(i, c.param, 'token');
        const found = c.values.some((v) => x.tokens.codes.some((t) => tokenMatches(t, v)));
        return c.not ? !found : found;
      }
      case 'token-text': {
        const x = this.expect(i, c.param, 'token');
        return c.values.some((v) => x.tokens.texts.some((t) => t.startsWith(v)));
      }
      case 'string': {
        const x = this.expect(i, c.param, 'string');
        return c.values.some((v) =>
          x.strings.some((s) => (c.mode === 'exact' ? s.exact === v : c.mode === 'contains' ? s.norm.includes(v) : s.norm.startsWith(v))),
        );
      }
      case 'date': {
        const x = this.expect(i, c.param, 'date');
        return c.values.some((v) => x.dates.some((d) => dateMatches(d, v)));
      }
      case 'number': {
        const x = this.expect(i, c.param, 'number');
        return c.values.some((v) => x.numbers.some((n) => numberMatches(n, v)));
      }
      case 'quantity': {
        const x = this.expect(i, c.param, 'quantity');
        return c.values.some((v) => x.quantities.some((q) => quantityMatches(q, v)));
      }
      case 'reference': {
        const x = this.expect(i, c.param, 'reference');
        return c.values.some((v) => x.references.some((ref) => referenceMatches(ref, v)));
      }
      case 'uri': {
        const x = this.expect(i, c.param, 'uri');
        return c.values.some((v) => x.uris.some((u) => uriMatches(u, v, c.mode)));
      }
      case 'chain':
      case 'has':
      case 'or':
        return this.matching(c, [i.r.type]).has(i);
      case 'for-type':
        return i.r.type !== c.type || this.test(i, c.where);
      case 'compartments':
        return c.patients.some((patient) => this.test(i, { kind: 'compartment', patient }));
      case 'compartment':
        // The Patient itself, and every resource that refers to it through one of the
        // parameters the Patient CompartmentDefinition lists for its type.
        if (i.r.type === 'Patient' && i.r.id === c.patient) return true;
        return this.registry.compartmentParams(i.r.type).some((p) => this.references(i, p).some((ref) => ref.type === 'Patient' && ref.id === c.patient));
      case 'text':
      case 'composite':
        throw new Error(`evaluator: ${c.kind} conditions are not implemented`);
    }
  }

  private expect<K extends Extracted['kind']>(i: Item, code: string, kind: K): Extract<Extracted, { kind: K }> {
    const x = this.values(i, code);
    if (x.kind !== kind) throw new Error(`evaluator: ${i.r.type}.${code} holds ${x.kind} values, not ${kind}`);
    return x as Extract<Extracted, { kind: K }>;
  }

  // -------------------------------------------------------------------------
  // Extraction with fhirpath.js

  private def(type: string, code: string): ParamDef {
    const def = this.registry.param(type, code);
    if (!def) throw new Error(`evaluator: no parameter ${type}.${code}`);
    return def;
  }

  private evaluator(type: string, def: ParamDef): Evaluator {
    const k = `${type}.${def.code}`;
    let fn = this.compiled.get(k);
    if (!fn) {
      if (!def.expression) throw new Error(`evaluator: ${k} has no expression`);
      // The STU3 expressions use `.as(T)` as a type filter over collections
      // (`Observation.component.value.as(Quantity)`), and write some FHIR primitive
      // types with FHIRPath's system type names (`.as(DateTime)`, `.as(String)`).
      // fhirpath.js follows the later FHIRPath rule (as() wants one item, and the
      // system type `DateTime` is not FHIR's `dateTime`), so an error or nothing
      // comes back. `.ofType(T)` says what the expressions mean, and fhirpath.js
      // accepts both spellings of the type there.
      const expression = def.expression.replace(/\.as\(([A-Za-z]+)\)/g, '.ofType($1)');
      const compiled = fhirpath.compile(expression, stu3Model, { resolveInternalTypes: false });
      fn = (resource) => {
        const nodes = compiled(resource) as unknown[];
        const types = fhirpath.types(nodes);
        const values = fhirpath.resolveInternalTypes(nodes) as unknown[];
        return values.map((value, n) => ({ type: types[n]!.replace(/^(FHIR|System)\./, ''), value }));
      };
      this.compiled.set(k, fn);
    }
    return fn;
  }

  private values(i: Item, code: string): Extracted {
    const k = `${i.key}\u0000${code}`;
    let x = this.cache.get(k);
    if (!x) {
      x = this.extract(i, code);
      this.cache.set(k, x);
    }
    return x;
  }

  private extract(i: Item, code: string): Extracted {
    const def = this.def(i.r.type, code);
    const nodes = this.evaluator(i.r.type, def)(i.r.resource);
    switch (def.type) {
      case 'token':
        return { kind: 'token', tokens: tokensOf(nodes, implicitSystemOf(i.r.type, def.expression ?? '')) };
      case 'string':
        return { kind: 'string', strings: nodes.flatMap(stringsOf) };
      case 'date':
        return { kind: 'date', dates: nodes.flatMap(datesOf) };
      case 'number':
        return { kind: 'number', numbers: nodes.flatMap(numbersOf) };
      case 'quantity':
        return { kind: 'quantity', quantities: nodes.flatMap(quantitiesOf) };
      case 'reference':
        return { kind: 'reference', references: nodes.flatMap((n) => this.referencesOf(n)) };
      case 'uri':
        return { kind: 'uri', uris: nodes.map((n) => n.value).filter((v): v is string => typeof v === 'string') };
      default:
        return { kind: 'none' };
    }
  }

  private referencesOf(n: { type: string; value: unknown }): ReferenceEntry[] {
    const ref = n.type === 'Reference' ? (n.value as Obj).reference : typeof n.value === 'string' ? n.value : undefined;
    if (typeof ref !== 'string' || ref === '' || ref.startsWith('#')) return [];
    return [this.parseReference(ref)];
  }

  /** `Type/id`, `Type/id/_history/n`, or an absolute URL, local when under the base. */
  parseReference(ref: string): ReferenceEntry {
    let path = ref;
    if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) {
      const base = `${this.options.baseUrl.replace(/\/+$/, '')}/`;
      if (!ref.startsWith(base)) return { url: ref };
      path = ref.slice(base.length);
    }
    const parts = path.split('/');
    if (parts.length === 4 && parts[2] === '_history') parts.length = 2;
    if (parts.length === 2 && this.resourceTypes.has(parts[0]!) && LOCAL_ID.test(parts[1]!)) return { type: parts[0]!, id: parts[1]!, url: ref };
    return { url: ref };
  }

  // -------------------------------------------------------------------------
  // Sorting

  private sort(items: Item[], keys: SortKey[]): Item[] {
    if (!keys.length) return items;
    const decorated = items.map((i) => ({ i, k: keys.map((key) => this.sortValue(i, key)) }));
    decorated.sort((a, b) => {
      for (let n = 0; n < keys.length; n++) {
        const x = a.k[n];
        const y = b.k[n];
        if (x === undefined && y === undefined) continue;
        if (x === undefined) return 1;
        if (y === undefined) return -1;
        const d = compareSortValues(x, y);
        if (d) return keys[n]!.descending ? -d : d;
      }
      return a.i.order - b.i.order;
    });
    return decorated.map((d) => d.i);
  }

  private sortValue(i: Item, key: SortKey): SortValue | undefined {
    if (key.param === '_id') return i.r.id;
    if (key.param === '_lastUpdated') return i.r.lastUpdated;
    const x = this.values(i, key.param);
    let candidates: SortValue[];
    switch (x.kind) {
      case 'string':
        candidates = x.strings.map((s) => s.norm);
        break;
      case 'token':
        candidates = x.tokens.codes.map((t) => t.code).filter((c): c is string => c !== null);
        break;
      case 'date':
        candidates = x.dates.map((d) => (key.descending ? d.high : d.low));
        break;
      case 'number':
        candidates = x.numbers;
        break;
      case 'quantity':
        candidates = x.quantities.map((q) => q.value);
        break;
      case 'reference':
        candidates = x.references.map((r) => r.id).filter((id): id is string => id !== undefined);
        break;
      case 'uri':
        candidates = x.uris;
        break;
      case 'none':
        candidates = [];
    }
    if (!candidates.length) return undefined;
    return candidates.reduce((best, v) => {
      const d = compareSortValues(v, best);
      return (key.descending ? d > 0 : d < 0) ? v : best;
    });
  }
}

type SortValue = string | number | Dec;

function compareSortValues(a: SortValue, b: SortValue): number {
  if (typeof a === 'string' && typeof b === 'string') return codePointCompare(a, b);
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'object' && typeof b === 'object') return cmp(a, b);
  throw new Error('evaluator: mixed sort values');
}

// ---------------------------------------------------------------------------
// Per-type extraction (the STU3 search page's tables)

type Node = { type: string; value: unknown };

function str(x: unknown): string | null {
  return typeof x === 'string' ? x : null;
}

/**
 * The system a `code` implies, read statically from the parameter's expression: the
 * element the path ends on, looked up in the model (the binding's single code system).
 * fhirpath.js gives values their type but not their element, so it cannot tell.
 */
function implicitSystemOf(type: string, expression: string): string | undefined {
  const model = fhirModel();
  const found = new Set<string | undefined>();
  for (const part of splitUnion(expression)) {
    const names = part.replace(/^\(+/, '').replace(/\s+as\s+\w+\)$/, '').replace(/\.(as|ofType|where)\([^)]*\)/g, '').split('.');
    if (names[0] !== type) continue;
    let owner = type;
    let system: string | undefined;
    for (const name of names.slice(1)) {
      const el = model.type(owner)?.elements.find((e) => e.name === name);
      if (!el) {
        system = undefined;
        break;
      }
      system = el.implicitSystem;
      owner = el.types[0] ?? '';
    }
    found.add(system);
  }
  return found.size === 1 ? [...found][0] : undefined;
}

function tokensOf(nodes: Node[], implicitSystem?: string): Tokens {
  const out: Tokens = { codes: [], texts: [] };
  const text = (t: unknown) => {
    if (typeof t === 'string' && fold(t)) out.texts.push(fold(t));
  };
  for (const { type, value } of nodes) {
    if (typeof value === 'boolean') {
      out.codes.push({ system: null, code: String(value) });
      continue;
    }
    if (typeof value === 'string') {
      out.codes.push({ system: implicitSystem && type === 'code' ? implicitSystem : null, code: value });
      continue;
    }
    const o = value as Obj;
    switch (type) {
      case 'Coding':
        out.codes.push({ system: str(o.system), code: str(o.code) });
        text(o.display);
        break;
      case 'CodeableConcept':
        for (const c of (o.coding as Obj[] | undefined) ?? []) {
          out.codes.push({ system: str(c.system), code: str(c.code) });
          text(c.display);
        }
        text(o.text);
        break;
      case 'Identifier':
        out.codes.push({ system: str(o.system), code: str(o.value) });
        text((o.type as Obj | undefined)?.text);
        break;
      case 'ContactPoint':
        out.codes.push({ system: str(o.system), code: str(o.value) });
        break;
      default:
        throw new Error(`evaluator: token search over ${type} is not implemented`);
    }
  }
  return out;
}

const NAME_PARTS = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

function stringsOf({ type, value }: Node): StringEntry[] {
  const entry = (s: unknown): StringEntry[] => (typeof s === 'string' && s.trim() ? [{ exact: s, norm: fold(s) }] : []);
  if (typeof value === 'string') return entry(value);
  const parts = type === 'HumanName' ? NAME_PARTS : type === 'Address' ? ADDRESS_PARTS : undefined;
  if (!parts) throw new Error(`evaluator: string search over ${type} is not implemented`);
  const o = value as Obj;
  return parts.flatMap((p) => (Array.isArray(o[p]) ? (o[p] as unknown[]).flatMap(entry) : entry(o[p])));
}

function datesOf({ type, value }: Node): DateEntry[] {
  if (typeof value === 'string') return [dateRangeOf(value)];
  if (type === 'Period') {
    const o = value as Obj;
    const start = typeof o.start === 'string' ? dateRangeOf(o.start).low : undefined;
    const end = typeof o.end === 'string' ? dateRangeOf(o.end).high : undefined;
    if (start === undefined && end === undefined) return [];
    return [{ low: start ?? -Infinity, high: end ?? Infinity }];
  }
  throw new Error(`evaluator: date search over ${type} is not implemented`);
}

function numbersOf({ value }: Node): Dec[] {
  if (typeof value === 'number') return [dec(value)];
  // A number parameter over a Quantity (Encounter.length is a Duration) searches its value.
  if (value && typeof value === 'object' && typeof (value as Obj).value === 'number') return [dec((value as Obj).value as number)];
  return [];
}

function quantitiesOf({ type, value }: Node): QuantityEntry[] {
  if (type === 'Range') return [];
  const o = value as Obj;
  if (typeof o?.value !== 'number') return [];
  const q: QuantityEntry = { value: dec(o.value) };
  if (typeof o.system === 'string') q.system = o.system;
  if (typeof o.code === 'string') q.code = o.code;
  if (typeof o.unit === 'string') q.unit = o.unit;
  return [q];
}

// ---------------------------------------------------------------------------
// Matching

function tokenMatches(t: TokenEntry, v: TokenValue): boolean {
  if (v.code !== undefined && t.code !== v.code) return false;
  if (v.system === null && t.system !== null) return false;
  if (typeof v.system === 'string' && t.system !== v.system) return false;
  return true;
}

/** The server's documented prefix semantics (conditions.ts dateTest), over a value's range. */
export function dateMatches(r: DateEntry, v: DateValue): boolean {
  const inside = r.low >= v.low && r.high <= v.high;
  switch (v.prefix) {
    case 'eq':
      return inside && r.low <= v.high;
    case 'ne':
      return !inside;
    case 'gt':
      return r.high > v.high;
    case 'lt':
      return r.low < v.low;
    case 'ge':
      return r.high > v.high || inside;
    case 'le':
      return r.low < v.low || inside;
    case 'sa':
      return r.low > v.high;
    case 'eb':
      return r.high < v.low;
    case 'ap':
      throw new Error('evaluator: ap depends on the current time and is not evaluated');
  }
}

/** The search value as an exact decimal, and the half-width of the precision it was written with. */
function searchDecimal(value: number, low: number, high: number): { value: Dec; half: Dec } {
  const k = Math.round(Math.log10(high - low));
  return { value: dec(value), half: { m: 5n, e: k - 1 } };
}

function compareWithPrefix(stored: Dec, prefix: NumberValue['prefix'], value: Dec, half: Dec): boolean {
  const low = sub(value, half);
  const high = add(value, half);
  switch (prefix) {
    case 'eq':
      return cmp(stored, low) >= 0 && cmp(stored, high) < 0;
    case 'ne':
      return cmp(stored, low) < 0 || cmp(stored, high) >= 0;
    case 'gt':
    case 'sa':
      return cmp(stored, value) > 0;
    case 'lt':
    case 'eb':
      return cmp(stored, value) < 0;
    case 'ge':
      return cmp(stored, value) >= 0;
    case 'le':
      return cmp(stored, value) <= 0;
    case 'ap':
      throw new Error('evaluator: ap is not evaluated');
  }
}

function numberMatches(n: Dec, v: NumberValue): boolean {
  const { value, half } = searchDecimal(v.value, v.low, v.high);
  return compareWithPrefix(n, v.prefix, value, half);
}

function quantityMatches(q: QuantityEntry, v: QuantityValue): boolean {
  const { value, half } = searchDecimal(v.value, v.low, v.high);
  const wanted = v.system === UCUM ? canonical(value, v.code) : undefined;
  if (Boolean(wanted) !== Boolean(v.canon)) throw new Error(`evaluator: the parser and the evaluator disagree on whether ${v.code} is convertible`);
  if (wanted) {
    const have = q.system === UCUM ? canonical(q.value, q.code) : undefined;
    if (!have || have.unit !== wanted.unit) return false;
    const factor = UNITS[v.code!]!.factor;
    return compareWithPrefix(have.value, v.prefix, wanted.value, mul(half, factor));
  }
  if (!compareWithPrefix(q.value, v.prefix, value, half)) return false;
  if (v.system !== undefined && q.system !== v.system) return false;
  if (v.code !== undefined) {
    if (v.system !== undefined) return q.code === v.code;
    return q.code === v.code || q.unit === v.code;
  }
  return true;
}

function referenceMatches(ref: ReferenceEntry, v: ReferenceValue): boolean {
  if (v.url !== undefined) return ref.url === v.url;
  if (ref.id === undefined || ref.id !== v.id) return false;
  return v.type === undefined || ref.type === v.type;
}

/** `:below`: the value or anything under it by path; `:above`: the value or one of its path ancestors. */
function uriMatches(stored: string, v: string, mode: 'eq' | 'above' | 'below'): boolean {
  const under = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
  if (mode === 'below') return under(stored, v);
  if (mode === 'above') return under(v, stored);
  return stored === v;
}

