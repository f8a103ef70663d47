import { badRequest, FhirError, issue, type Issue } from '../../fhir/outcome.js';
import { normalise } from '../normalise.js';
import { compileRelativePath } from '../paths.js';
import type { CompositeValue, Condition, IndexTable, SearchPlan, SortKey, TokenValue } from '../plan.js';
import type { ParamDef, SearchRegistry } from '../registry.js';
import { parseElements, parseSummary, type SummaryMode } from './subset.js';
import { parseDateValue, parseNumberValue, parseQuantityValue, parseReferenceValue, parseTokenValue, splitUnescaped, unescape } from './values.js';

/**
 * Parses a search query into a plan, checked against the registry.
 * https://hl7.org/fhir/STU3/search.html
 */

export interface IncludeSpec {
  sourceType: string;
  param: string;
  targetType?: string;
  iterate: boolean;
  /** `_include=*`: every reference parameter of the source type. */
  wildcard?: boolean;
}

export type { SummaryMode } from './subset.js';

export interface ParsedSearch {
  plan: SearchPlan;
  includes: IncludeSpec[];
  revincludes: IncludeSpec[];
  summary?: SummaryMode;
  elements?: string[];
  /** Issues about ignored parameters, reported in the Bundle. */
  warnings: Issue[];
  /** `_total=estimate`: the pages after the first carry its count rather than count again. */
  estimate?: boolean;
  /** The paging cursor, still to be verified. */
  cursor?: string;
  /** The query without result-independent parameters, for paging links. */
  canonical: Array<[string, string]>;
}

export interface SearchOptions {
  defaultCount: number;
  maxCount: number;
  /**
   * Unknown or unsupported parameters (and modifiers, includes, sort keys) are errors: a 400
   * naming each, with the parameters the types do have. Otherwise they are ignored, with a
   * warning (`Prefer: handling=lenient`).
   */
  strict: boolean;
  baseUrl?: string;
  /** The clock, for `ap` on dates. */
  now?: number;
}

/** Parameters that paging links do not repeat (the cursor is added afresh; formats are the HTTP layer's). */
const NOT_CANONICAL = new Set(['_cursor', '_format', '_pretty']);
const UNSUPPORTED = new Set(['_contained', '_containedType', '_query', '_list', '_filter']);

/**
 * Parses a search query against the registry. Under `strict`, everything that would be
 * ignored is collected and refused at the end with one 400: a typo must not widen the
 * results to everything. https://hl7.org/fhir/STU3/search.html#errors
 */
export function parseSearch(types: string[], query: Array<[string, string]>, registry: SearchRegistry, options: SearchOptions): ParsedSearch {
  const warnings: Issue[] = [];
  const refused: Issue[] = [];
  const ignore = (diagnostics: string, param: string) => {
    if (options.strict) refused.push(issue('not-supported', diagnostics, param));
    else warnings.push(issue('not-supported', `${diagnostics}; it was ignored`, param, 'warning'));
  };
  const plan: SearchPlan = { types, where: [], sort: [], count: options.defaultCount, offset: 0, total: true };
  const parsed: ParsedSearch = { plan, includes: [], revincludes: [], warnings, canonical: [] };

  for (const [name, value] of query) {
    // No database takes a NUL in text (PostgreSQL refuses it): refused here, where every search passes.
    if (name.includes('\u0000') || value.includes('\u0000')) throw badRequest(`The parameter ${name.replace(/\u0000/g, '\\0').slice(0, 100)} holds a NUL character`, name);
    const base = name.split(':')[0]!;
    if (!NOT_CANONICAL.has(base)) parsed.canonical.push([name, value]);
    if (value === '' && base !== '_cursor') continue;
    switch (base) {
      case '_count': {
        if (!/^\d+$/.test(value)) throw badRequest(`_count must be a non-negative integer, not '${value}'`, '_count');
        const n = Number(value);
        if (n > options.maxCount) {
          warnings.push(issue('too-costly', `_count=${n} exceeds the maximum of ${options.maxCount}; ${options.maxCount} were returned per page`, '_count', 'warning'));
          plan.count = options.maxCount;
        } else plan.count = n;
        if (n === 0) parsed.summary = 'count';
        continue;
      }
      case '_sort':
        plan.sort.push(...parseSort(types, value, registry, ignore));
        continue;
      case '_include':
      case '_revinclude': {
        const spec = parseInclude(name, value, registry, base === '_revinclude', types);
        if (spec) (base === '_include' ? parsed.includes : parsed.revincludes).push(spec);
        else ignore(`Unknown ${base} '${value}'`, base);
        continue;
      }
      case '_summary':
        parsed.summary = parseSummary(value);
        continue;
      case '_elements':
        parsed.elements = parseElements(value);
        continue;
      case '_total':
        if (value === 'none') plan.total = false;
        else if (value === 'estimate') parsed.estimate = true;
        else if (value !== 'accurate') throw badRequest(`_total must be none, estimate or accurate; not '${value}'`, '_total');
        continue;
      case '_cursor':
        parsed.cursor = value;
        continue;
      case '_format':
      case '_pretty':
      case '_type':
        continue;
    }
    if (UNSUPPORTED.has(base)) {
      ignore(`The parameter ${base} is not supported`, base);
      continue;
    }
    const condition = parseCondition(types, name, value, registry, options, ignore);
    if (condition) plan.where.push(condition);
  }
  // Each ANDed parameter is a probe per candidate (and a subquery to build): 200 took 10 s on
  // PostgreSQL and 1,000 never finished (issue 15, H3). ORed values are capped per parameter.
  if (plan.where.length > MAX_AND_PARAMS) throw new FhirError(400, issue('too-costly', `The search has ${plan.where.length} ANDed parameters; at most ${MAX_AND_PARAMS} are accepted`));
  // A key repeated sorts nothing more: only its first place counts.
  plan.sort = plan.sort.filter((k, i) => plan.sort.findIndex((o) => o.param === k.param) === i);
  if (plan.sort.length > MAX_SORT_KEYS) throw new FhirError(400, issue('too-costly', `_sort has ${plan.sort.length} keys; at most ${MAX_SORT_KEYS} are accepted`, '_sort'));
  const includeCount = parsed.includes.length + parsed.revincludes.length;
  if (includeCount > MAX_INCLUDE_PARAMS) throw new FhirError(400, issue('too-costly', `The search has ${includeCount} _include and _revinclude parameters; at most ${MAX_INCLUDE_PARAMS} are accepted`, '_include'));
  if (refused.length) throw new FhirError(400, [...refused, issue('informational', validParameters(types, registry), undefined, 'information')]);
  return parsed;
}

/** The parameters that control results rather than select (https://hl7.org/fhir/STU3/search.html#Summary). */
const RESULT_PARAMETERS = ['_count', '_sort', '_include', '_revinclude', '_summary', '_elements', '_total', '_has', '_format', '_pretty'];

/** What a refused search could have asked for: the parameters every one of `types` has, and the result parameters. */
export function validParameters(types: string[], registry: SearchRegistry): string {
  const codes = registry
    .params(types[0]!)
    .filter((d) => isSearchable(d) && commonParam(types, d.code, registry) !== undefined)
    .map((d) => d.code);
  const names = [...new Set(codes)].sort();
  const scope = types.length === 1 ? types[0]! : types.length <= 5 ? `every one of ${types.join(', ')}` : `every resource type`;
  return `The search parameters of ${scope} are ${names.join(', ')}; and the result parameters ${RESULT_PARAMETERS.join(', ')}`;
}

type Ignore = (diagnostics: string, param: string) => void;

/** The definition of `code` shared by all `types`, or undefined if any lacks it. */
function commonParam(types: string[], code: string, registry: SearchRegistry): ParamDef | undefined {
  let def: ParamDef | undefined;
  for (const t of types) {
    const d = registry.param(t, code);
    if (!d) return undefined;
    def ??= d;
  }
  return def;
}

/** The modifiers the parser accepts per parameter type (besides :missing); the CapabilityStatement repeats them. */
export const SUPPORTED_MODIFIERS: Record<ParamDef['type'], string[]> = {
  string: [':exact', ':contains'],
  token: [':not', ':text', ':in', ':not-in', ':below', ':above'],
  date: [],
  number: [],
  quantity: [],
  uri: [':above', ':below'],
  reference: [':[type]'],
  composite: [],
};

/** Whether a registry parameter can be searched (and so is declared in the CapabilityStatement). */
export function isSearchable(def: ParamDef): boolean {
  if (def.code === '_text' || def.code === '_content' || def.code === '_id' || def.code === '_lastUpdated') return true;
  if (def.type === 'composite') return compositeSupported(def);
  return def.expression !== undefined && TABLE[def.type] !== undefined;
}

const compositeCache = new Map<string, boolean>();

/** Two-component composites whose components compile (all of STU3's but Sequence's `coordinate`). */
export function compositeSupported(def: ParamDef): boolean {
  let ok = compositeCache.get(def.url);
  if (ok === undefined) {
    ok = def.components?.length === 2 && def.components.every((c) => compileRelativePath(c.expression) !== undefined) && def.expression !== undefined;
    compositeCache.set(def.url, ok);
  }
  return ok;
}

/** The deepest a chain or a nesting of _has may go. */
const MAX_DEPTH = 10;

/** The most comma-separated values one parameter may have. */
const MAX_OR_VALUES = 200;

/** The most ANDed parameters (conditions) one search may have; and sort keys, and _include/_revinclude parameters. */
export const MAX_AND_PARAMS = 50;
export const MAX_SORT_KEYS = 8;
export const MAX_INCLUDE_PARAMS = 20;

const TABLE: Partial<Record<ParamDef['type'], IndexTable>> = {
  token: 'token', string: 'string', date: 'date', number: 'number', quantity: 'quantity', reference: 'reference', uri: 'uri', composite: 'composite',
};

/** One `name=value` pair (values ORed by commas) as a condition; undefined when ignored. */
export function parseCondition(types: string[], name: string, value: string, registry: SearchRegistry, options: SearchOptions, ignore: Ignore, depth = 0): Condition | undefined {
  if (depth > MAX_DEPTH) throw new FhirError(400, issue('too-costly', `${name.slice(0, 100)}…: chains and _has may be at most ${MAX_DEPTH} levels deep`, '_has'));
  if (name.startsWith('_has:')) return parseHas(types, name, value, registry, options, ignore, depth);
  const dot = name.indexOf('.');
  if (dot > 0) return parseChain(types, name.slice(0, dot), name.slice(dot + 1), value, registry, options, ignore, depth);

  const [code, modifier] = name.split(':') as [string, string | undefined];
  if (code === '_id') {
    if (modifier && modifier !== 'not' && modifier !== 'missing') return ignore(`The modifier :${modifier} is not supported on _id`, name), undefined;
    if (modifier === 'missing') return parseMissingFlag(name, value) ? { kind: 'none' } : undefined;
    const ids = splitUnescaped(value, ',').map(unescape);
    if (ids.length > MAX_OR_VALUES) throw new FhirError(400, issue('too-costly', `_id has ${ids.length} values; at most ${MAX_OR_VALUES} may be ORed`, name));
    return { kind: 'id', values: ids, ...(modifier === 'not' ? { not: true } : {}) };
  }
  if (code === '_lastUpdated') {
    if (modifier) return ignore(`The modifier :${modifier} is not supported on _lastUpdated`, name), undefined;
    return { kind: 'lastUpdated', values: splitUnescaped(value, ',').map((v) => parseDateValue(name, v, options.now)) };
  }
  const def = commonParam(types, code, registry);
  if (!def) return ignore(`Unknown search parameter '${code}' for ${types.join(', ')}`, name), undefined;
  if (code === '_text' || code === '_content') {
    const words = normalise(unescape(value)).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 1);
    return { kind: 'text', values: words, content: code === '_content' };
  }
  const values = splitUnescaped(value, ',');
  if (values.length > MAX_OR_VALUES) throw new FhirError(400, issue('too-costly', `${name} has ${values.length} values; at most ${MAX_OR_VALUES} may be ORed in one parameter`, name));
  const table = TABLE[def.type];
  if (modifier === 'missing') {
    if (!table) return ignore(`:missing is not supported on ${def.type} parameter ${code}`, name), undefined;
    return { kind: 'missing', param: code, table, missing: parseMissingFlag(name, value) };
  }
  switch (def.type) {
    case 'string':
      if (modifier && modifier !== 'exact' && modifier !== 'contains') return ignore(`The modifier :${modifier} is not supported on string parameter ${code}`, name), undefined;
      return {
        kind: 'string',
        param: code,
        mode: (modifier as 'exact' | 'contains' | undefined) ?? 'prefix',
        values: values.map((v) => (modifier === 'exact' ? unescape(v) : normalise(unescape(v)))),
      };
    case 'token':
      if (modifier === 'text') return { kind: 'token-text', param: code, values: values.map((v) => normalise(unescape(v))) };
      if (modifier === 'in' || modifier === 'not-in') return { kind: 'token-set', param: code, relation: modifier, values: values.map((v) => ({ valueSet: unescape(v) })) };
      if (modifier === 'below' || modifier === 'above') {
        return {
          kind: 'token-set',
          param: code,
          relation: modifier,
          values: values.map((v) => {
            const t = parseTokenValue(v);
            if (!t.system || t.code === undefined) throw badRequest(`${name} needs system|code (the code system whose hierarchy to follow)`, name, 'value');
            return { system: t.system, code: t.code };
          }),
        };
      }
      if (modifier && modifier !== 'not') return ignore(`The modifier :${modifier} is not supported on token parameter ${code}`, name), undefined;
      return { kind: 'token', param: code, values: values.map(parseTokenValue), ...(modifier === 'not' ? { not: true } : {}) };
    case 'date':
      if (modifier) return ignore(`The modifier :${modifier} is not supported on date parameter ${code}`, name), undefined;
      return { kind: 'date', param: code, values: values.map((v) => parseDateValue(name, v, options.now)) };
    case 'number':
      if (modifier) return ignore(`The modifier :${modifier} is not supported on number parameter ${code}`, name), undefined;
      return { kind: 'number', param: code, values: values.map((v) => parseNumberValue(name, v)) };
    case 'quantity':
      if (modifier) return ignore(`The modifier :${modifier} is not supported on quantity parameter ${code}`, name), undefined;
      return { kind: 'quantity', param: code, values: values.map((v) => parseQuantityValue(name, v)) };
    case 'uri':
      if (modifier && modifier !== 'above' && modifier !== 'below') return ignore(`The modifier :${modifier} is not supported on uri parameter ${code}`, name), undefined;
      return { kind: 'uri', param: code, mode: (modifier as 'above' | 'below' | undefined) ?? 'eq', values: values.map(unescape) };
    case 'reference': {
      const targets = def.targets ?? [];
      if (modifier && !targets.includes(modifier)) {
        return ignore(`The modifier :${modifier} is not a target type of reference parameter ${code} (${targets.join(', ')})`, name), undefined;
      }
      return { kind: 'reference', param: code, values: values.map((v) => parseReferenceValue(name, v, targets, modifier, options.baseUrl)) };
    }
    case 'composite':
      if (!compositeSupported(def)) return ignore(`The composite parameter ${code} is not supported`, name), undefined;
      if (modifier) return ignore(`The modifier :${modifier} is not supported on composite parameter ${code}`, name), undefined;
      return { kind: 'composite', param: code, values: values.map((v) => parseCompositeValue(name, v, def, options.now)) };
    default:
      return ignore(`Search by ${def.type} parameter ${code} is not supported`, name), undefined;
  }
}

/** `system|code$second`: the first component a token (or a reference as Type/id), the second by its type. */
function parseCompositeValue(name: string, raw: string, def: ParamDef, now?: number): CompositeValue {
  const parts = splitUnescaped(raw, '$');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw badRequest(`Invalid composite value '${raw}' for ${name}: expected first$second`, name, 'value');
  const [c1, c2] = def.components!;
  let first: TokenValue;
  if (c1!.type === 'reference') {
    const r = parseReferenceValue(name, parts[0], [], undefined);
    first = { system: r.type ?? null, code: r.id ?? '' };
  } else first = parseTokenValue(parts[0]);
  const text = parts[1];
  let second: CompositeValue['second'];
  switch (c2!.type) {
    case 'quantity':
      second = { kind: 'quantity', value: parseQuantityValue(name, text) };
      break;
    case 'number':
      second = { kind: 'number', value: parseNumberValue(name, text) };
      break;
    case 'date':
      second = { kind: 'date', value: parseDateValue(name, text, now) };
      break;
    case 'string':
      second = { kind: 'string', value: normalise(unescape(text)) };
      break;
    case 'reference': {
      const r = parseReferenceValue(name, text, [], undefined);
      second = { kind: 'token', value: { system: r.type ?? null, code: r.id ?? '' } };
      break;
    }
    default:
      second = { kind: 'token', value: parseTokenValue(text) };
  }
  return { first, second };
}

function parseMissingFlag(name: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw badRequest(`${name} must be true or false, not '${value}'`, name);
  return value === 'true';
}

/** `subject:Patient.name=x`, `patient.identifier=x`, to any depth. */
function parseChain(types: string[], head: string, rest: string, value: string, registry: SearchRegistry, options: SearchOptions, ignore: Ignore, depth: number): Condition | undefined {
  const [code, typeModifier] = head.split(':') as [string, string | undefined];
  const def = commonParam(types, code, registry);
  if (!def || def.type !== 'reference') return ignore(`'${code}' is not a reference parameter of ${types.join(', ')}, so it cannot be chained`, head), undefined;
  const nextCode = rest.split(/[.:]/)[0]!;
  let targetTypes = typeModifier ? [typeModifier] : (def.targets ?? []);
  if (typeModifier && !(def.targets ?? []).includes(typeModifier)) return ignore(`${typeModifier} is not a target type of ${code}`, head), undefined;
  if (!typeModifier && !nextCode.startsWith('_')) targetTypes = targetTypes.filter((t) => registry.param(t, nextCode));
  if (!targetTypes.length) return ignore(`No target type of ${code} has a search parameter '${nextCode}'`, `${head}.${rest}`), undefined;
  // Several target types: chain into each that knows the parameter, and OR the results.
  const inner = targetTypes.map((t) => parseCondition([t], rest, value, registry, options, ignore, depth + 1));
  const conditions = inner.map((where, i) => (where ? ({ kind: 'chain', param: code, targetTypes: [targetTypes[i]!], where } as Condition) : undefined)).filter((c): c is Condition => c !== undefined);
  if (!conditions.length) return undefined;
  return conditions.length === 1 ? conditions[0] : { kind: 'or', any: conditions };
}

/** `_has:Observation:patient:code=1234`: resources that some Observation refers to via `patient`. */
function parseHas(types: string[], name: string, value: string, registry: SearchRegistry, options: SearchOptions, ignore: Ignore, depth: number): Condition | undefined {
  const parts = name.split(':');
  if (parts.length < 4) throw badRequest(`Invalid _has '${name}': expected _has:Type:reference-parameter:search-parameter`, name);
  const [, type, param] = parts as [string, string, string];
  const rest = parts.slice(3).join(':');
  if (!registry.types().includes(type)) return ignore(`Unknown resource type '${type}' in ${name}`, name), undefined;
  const def = registry.param(type, param);
  if (!def || def.type !== 'reference') return ignore(`'${param}' is not a reference parameter of ${type}`, name), undefined;
  if (def.targets && !types.some((t) => def.targets!.includes(t))) return ignore(`${type}.${param} does not refer to ${types.join(', ')}`, name), undefined;
  const where = parseCondition([type], rest, value, registry, options, ignore, depth + 1);
  return where ? { kind: 'has', type, param, where } : undefined;
}

function parseSort(types: string[], value: string, registry: SearchRegistry, ignore: Ignore): SortKey[] {
  const keys: SortKey[] = [];
  for (const raw of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const descending = raw.startsWith('-');
    const code = descending ? raw.slice(1) : raw;
    if (code === '_id' || code === '_lastUpdated') {
      keys.push({ param: code, descending });
      continue;
    }
    const def = commonParam(types, code, registry);
    const table = def ? TABLE[def.type] : undefined;
    if (!def || !table) {
      ignore(`Cannot sort by '${code}': not a sortable search parameter of ${types.join(', ')}`, '_sort');
      continue;
    }
    keys.push({ param: code, table, descending });
  }
  return keys;
}

/** `_include=Encounter:diagnosis[:Condition]`, `_include=*`, with `:iterate` (or STU3's `:recurse`). */
function parseInclude(name: string, value: string, registry: SearchRegistry, reverse: boolean, types: string[]): IncludeSpec | undefined {
  const iterate = name.endsWith(':iterate') || name.endsWith(':recurse');
  // `_include=*`: every reference of the matches; `_revinclude=*`: every resource of any type referring to them.
  if (value === '*') return reverse ? { sourceType: '*', param: '*', iterate, wildcard: true } : { sourceType: types.length === 1 ? types[0]! : '*', param: '*', iterate, wildcard: true };
  const [sourceType, param, targetType] = value.split(':');
  if (!sourceType || !param) return undefined;
  if (param === '*') return registry.types().includes(sourceType) ? { sourceType, param, iterate, wildcard: true } : undefined;
  const def = registry.param(sourceType, param);
  if (!def || def.type !== 'reference') return undefined;
  if (targetType && !(def.targets ?? []).includes(targetType)) return undefined;
  return targetType ? { sourceType, param, targetType, iterate } : { sourceType, param, iterate };
}
